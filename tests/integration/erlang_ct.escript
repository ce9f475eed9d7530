#!/usr/bin/env escript
%%! -hidden
%% Runs one of the ticksplit Common Test suites (erlang/test/*_SUITE.erl) from the cluster's
%% control namespace as a hidden node: erlang_ct.escript SUITE EBIN TEST_EBIN CONFIG LOGDIR.
%% Passes only if every case passed and none was skipped.
-mode(compile).
-include("../../scripts/lib/escript_lib.hrl").

main([Suite, Ebin, TestEbin, ConfigFile, LogDir]) ->
    start_dist("ct_"),
    true = code:add_patha(Ebin),
    true = code:add_patha(TestEbin),
    ok = filelib:ensure_path(LogDir),
    Result = ct:run_test([{dir, TestEbin}, {suite, list_to_atom(Suite)}, {auto_compile, false},
                          {config, ConfigFile}, {logdir, LogDir}]),
    io:format("ct:run_test: ~p (logs in ~s)~n", [Result, LogDir]),
    case Result of
        {Ok, 0, {0, 0}} when Ok > 0 -> halt(0);
        _ -> halt(1)
    end;
main(_) ->
    io:format(standard_error, "usage: erlang_ct.escript SUITE EBIN TEST_EBIN CONFIG LOGDIR~n", []),
    halt(2).
