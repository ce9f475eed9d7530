%% Running `ticksplit-ctl check' from Erlang. The port mechanics (arguments, exit status,
%% stdout apart from stderr, timeouts) against small fake checkers written here; the verdicts
%% against the real one, named by $TICKSPLIT_CTL (ctest sets it): without it those tests
%% fail rather than skip.
-module(ticksplit_check_tests).
-include_lib("eunit/include/eunit.hrl").

-define(REPORT, <<"{\"verdict\":\"valid\",\"model\":\"cas-register\",\"files\":[\"a\"],\"ops\":3,\"keys\":[],\"faults\":[]}">>).

%%% Exit status and output, against fakes

exit_status_mapping_test_() ->
    {setup, fun tmp_dir/0, fun rm_rf/1,
     fun(Dir) ->
             [?_assertMatch({valid, #{<<"verdict">> := <<"valid">>, <<"ops">> := 3}},
                            run_fake(Dir, "valid", ?REPORT, "", 0)),
              ?_assertMatch({invalid, #{<<"model">> := <<"cas-register">>}},
                            run_fake(Dir, "invalid", ?REPORT, "", 1)),
              ?_assertMatch({unknown, #{}}, run_fake(Dir, "unknown", ?REPORT, "", 3)),
              %% stderr never mixes into the JSON
              ?_assertMatch({valid, #{}}, run_fake(Dir, "noisy", ?REPORT, "warning: slow\n", 0)),
              ?_assertEqual({error, {usage, <<"ops.jsonl:3: not a JSON object">>}},
                            run_fake(Dir, "usage", <<>>, "ops.jsonl:3: not a JSON object\n", 2)),
              ?_assertEqual({error, {exit_status, 70, <<"internal error">>}},
                            run_fake(Dir, "crash", <<>>, "internal error\n", 70)),
              ?_assertEqual({error, {bad_output, 0, <<"not json\n">>}},
                            run_fake(Dir, "garbage", <<"not json">>, "", 0)),
              ?_assertEqual({error, {bad_output, 1, <<"[1,2]\n">>}},
                            run_fake(Dir, "array", <<"[1,2]">>, "", 1))]
     end}.

arguments_test() ->
    Dir = tmp_dir(),
    try
        Ctl = fake(Dir, "args", ?REPORT, "", 0),
        {valid, _} = ticksplit_check:run(["a.jsonl", <<"b.jsonl">>], cas_register,
                                         #{ctl => Ctl, max_ms => 500, max_mb => 64, window_ms => 2500}),
        ?assertEqual(["check", "a.jsonl", "b.jsonl", "--model", "cas-register", "--json",
                      "--max-ms", "500", "--max-mb", "64", "--window-ms", "2500"], args(Ctl)),
        [begin
             {valid, _} = ticksplit_check:run(["h"], M, #{ctl => Ctl}),
             ?assertEqual(["check", "h", "--model", Expected, "--json"], args(Ctl))
         end || {M, Expected} <- [{register, "register"}, {"cas-register", "cas-register"},
                                  {"cas_register", "cas-register"}, {<<"set">>, "set"},
                                  {kv, "kv"}, {queue, "queue"}, {counter, "counter"}]]
    after rm_rf(Dir)
    end.

bad_arguments_test() ->
    ?assertEqual({error, {bad_model, linearizable}}, ticksplit_check:run(["h"], linearizable, #{})),
    ?assertEqual({error, {bad_model, "sets"}}, ticksplit_check:run(["h"], "sets", #{})),
    ?assertEqual({error, {bad_option, max_ms, -1}}, ticksplit_check:run(["h"], set, #{max_ms => -1})),
    ?assertEqual({error, {unknown_option, colour}}, ticksplit_check:run(["h"], set, #{colour => red})).

missing_binary_test() ->
    ?assertEqual({error, {ctl_not_found, "/nonexistent/ticksplit-ctl"}},
                 ticksplit_check:run(["h"], set, #{ctl => "/nonexistent/ticksplit-ctl"})),
    ?assertEqual({error, {ctl_not_found, "no-such-ticksplit-ctl"}},
                 ticksplit_check:run(["h"], set, #{ctl => "no-such-ticksplit-ctl"})).

%% The option, else the application env, else $TICKSPLIT_CTL.
where_the_binary_comes_from_test() ->
    Dir = tmp_dir(),
    Saved = os:getenv("TICKSPLIT_CTL"),
    try
        FromEnv = fake(Dir, "from_env", ?REPORT, "", 0),
        FromApp = fake(Dir, "from_app", ?REPORT, "", 1),
        true = os:putenv("TICKSPLIT_CTL", FromEnv),
        ?assertMatch({valid, _}, ticksplit_check:run(["h"], set, #{})),
        ok = application:set_env(ticksplit, ctl, FromApp),
        ?assertMatch({invalid, _}, ticksplit_check:run(["h"], set, #{})),
        ?assertMatch({valid, _}, ticksplit_check:run(["h"], set, #{ctl => FromEnv})),
        true = os:putenv("TICKSPLIT_CTL", "/nonexistent/env-ctl"),
        ok = application:unset_env(ticksplit, ctl),
        ?assertEqual({error, {ctl_not_found, "/nonexistent/env-ctl"}}, ticksplit_check:run(["h"], set, #{}))
    after
        application:unset_env(ticksplit, ctl),
        case Saved of
            false -> os:unsetenv("TICKSPLIT_CTL");
            _ -> os:putenv("TICKSPLIT_CTL", Saved)
        end,
        rm_rf(Dir)
    end.

%% A checker that does not answer in time is killed.
timeout_kills_the_checker_test() ->
    Dir = tmp_dir(),
    try
        PidFile = filename:join(Dir, "pid"),
        Ctl = script(Dir, "slow", ["echo $$ > " ++ PidFile, "exec sleep 30"]),
        ?assertEqual({error, timeout}, ticksplit_check:run(["h"], set, #{ctl => Ctl, timeout_ms => 300})),
        {ok, Pid} = file:read_file(PidFile),
        ?assertEqual("gone", os:cmd("kill -0 " ++ binary_to_list(string:trim(Pid)) ++ " 2>/dev/null || echo -n gone"))
    after rm_rf(Dir)
    end.

%%% The real checker ($TICKSPLIT_CTL)

%% The golden history is linearizable as a cas register (per key).
real_checker_valid_test() ->
    Ctl = real_ctl(),
    Golden = filename:join([ticksplit_ops_tests:data_dir(), "history", "recorded_ops.jsonl"]),
    {Verdict, Report} = ticksplit_check:run([Golden], cas_register, #{ctl => Ctl}),
    ?assertEqual({valid, <<"valid">>}, {Verdict, maps:get(<<"verdict">>, Report)}),
    ?assertMatch(#{<<"model">> := <<"cas-register">>, <<"ops">> := Ops} when is_integer(Ops), Report).

%% A read of a value nobody wrote.
real_checker_invalid_test() ->
    Ctl = real_ctl(),
    Dir = tmp_dir(),
    try
        File = filename:join(Dir, "bad.jsonl"),
        {ok, R} = ticksplit_ops:open(File),
        ok = ticksplit_ops:invoke(R, 0, write, 1),
        ok = ticksplit_ops:complete(R, 0, ok, 1),
        ok = ticksplit_ops:invoke(R, 1, read, null),
        ok = ticksplit_ops:complete(R, 1, ok, 2),
        ok = ticksplit_ops:close(R),
        {Verdict, Report} = ticksplit_check:run([File], register, #{ctl => Ctl}),
        ?assertEqual({invalid, <<"invalid">>}, {Verdict, maps:get(<<"verdict">>, Report)})
    after rm_rf(Dir)
    end.

%% End to end on this node: a workload's history of a linearizable register (ETS, with some
%% operations timing out) checks valid, per key, with the run_start and notes in it.
real_checker_workload_history_test() ->
    Ctl = real_ctl(),
    Dir = tmp_dir(),
    Tab = ets:new(register, [public]),
    try
        File = filename:join(Dir, "workload.jsonl"),
        Slow = fun(#{value := V}) -> V =:= 3 end,
        {ok, #{ops := N, info := Info}} =
            ticksplit_workload:run(#{client => {ticksplit_local_register_client, #{table => Tab, slow => Slow}},
                                     nodes => [node()], clients => 4, rate => 400, duration_ms => 10000,
                                     until => fun() -> has_info(File) end,
                                     timeout_ms => 20, keys => [a, b], history => File, seed => 3,
                                     final => [{read, null}],
                                     ops => [{2, read, null}, {1, write, {random, 1, 4}},
                                             {1, cas, fun() -> {rand:uniform(4), rand:uniform(4)} end}]}),
        ?assert(Info > 0),
        {valid, #{<<"ops">> := Ops, <<"keys">> := Keys}} = ticksplit_check:run([File], cas_register, #{ctl => Ctl}),
        ?assertEqual(N, Ops),
        ?assertEqual([<<"a">>, <<"b">>], lists:sort([K || #{<<"key">> := K} <- Keys]))
    after
        ets:delete(Tab),
        rm_rf(Dir)
    end.

real_checker_usage_error_test() ->
    Ctl = real_ctl(),
    ?assertMatch({error, {usage, <<_, _/binary>>}},
                 ticksplit_check:run(["/nonexistent/history.jsonl"], set, #{ctl => Ctl})).

has_info(File) ->
    case file:read_file(File) of
        {ok, B} -> binary:match(B, <<"\"type\":\"info\"">>) =/= nomatch;
        _ -> false
    end.

real_ctl() ->
    case os:getenv("TICKSPLIT_CTL") of
        Path when is_list(Path), Path =/= "" ->
            case filelib:is_regular(Path) of
                true -> Path;
                false -> error({ticksplit_ctl_missing, Path, "TICKSPLIT_CTL names no file"})
            end;
        _ ->
            error({ticksplit_ctl_missing, "set TICKSPLIT_CTL to the ticksplit-ctl binary (ctest does)"})
    end.

%%% Fakes

run_fake(Dir, Name, Stdout, Stderr, Status) ->
    ticksplit_check:run(["h.jsonl"], cas_register, #{ctl => fake(Dir, Name, Stdout, Stderr, Status)}).

%% A checker that records its arguments, prints Stdout (and a newline) to stdout, Stderr to
%% stderr, and exits with Status.
fake(Dir, Name, Stdout, Stderr, Status) ->
    Out = filename:join(Dir, Name ++ ".out"),
    Err = filename:join(Dir, Name ++ ".err"),
    ok = file:write_file(Out, [Stdout, [$\n || Stdout =/= <<>>]]),
    ok = file:write_file(Err, Stderr),
    script(Dir, Name, ["for a in \"$@\"; do printf '%s\\n' \"$a\"; done > \"$0.args\"",
                       "cat " ++ Out, "cat " ++ Err ++ " >&2", "exit " ++ integer_to_list(Status)]).

script(Dir, Name, Lines) ->
    Path = filename:join(Dir, Name),
    ok = file:write_file(Path, ["#!/bin/sh\n", lists:join("\n", Lines), "\n"]),
    ok = file:change_mode(Path, 8#755),
    Path.

args(Ctl) ->
    {ok, B} = file:read_file(Ctl ++ ".args"),
    [binary_to_list(A) || A <- binary:split(B, <<"\n">>, [global, trim_all])].

tmp_dir() ->
    Base = case os:getenv("TMPDIR") of
               D when is_list(D), D =/= "" -> D;
               _ -> "/tmp"
           end,
    Dir = filename:join(Base, "ticksplit_check_tests-" ++ integer_to_list(erlang:unique_integer([positive]))),
    ok = filelib:ensure_path(Dir),
    Dir.

rm_rf(Dir) ->
    _ = [file:delete(F) || F <- filelib:wildcard(filename:join(Dir, "*"))],
    _ = file:del_dir(Dir),
    ok.
