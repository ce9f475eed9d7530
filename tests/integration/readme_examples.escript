#!/usr/bin/env escript
%%! -hidden
%% Runs every Erlang example of README.md and docs/*.md, as written there, against the 3-host
%% cluster, so that none can rot (readme.sh runs the Elixir one under ExUnit and the YAML
%% schedule through ticksplit-ctl). Each example is recognised by how it starts and given the
%% context its prose promises (a CT Config with the nodes, the model's generators, a register
%% to talk to, the nodes bound to Nodes, A, B, C); an Erlang example with no harness here fails
%% the test. Usage: readme_examples.escript REPO_ROOT EBIN; prints PASS/FAIL, exits 0/1.
-mode(compile).
-include("../../scripts/lib/escript_lib.hrl").

-define(APPS, [app(1), app(2), app(3)]).

main([Root, Ebin]) ->
    start_dist("t_readme_"),
    true = code:add_patha(Ebin),
    Work = string:trim(os:cmd("mktemp -d")),
    try
        Blocks = lists:append([erlang_blocks(F) || F <- files(Root)]),
        expect(length(Blocks) >= 4, {too_few_erlang_examples, length(Blocks)}),
        [begin
             io:format("== ~s: ~s~n", [File, first_line(Code)]),
             run(harness(Code), Code, Work)
         end || {File, Code} <- Blocks],
        io:format("PASS readme (~b Erlang examples)~n", [length(Blocks)]),
        halt(0)
    catch
        Class:Reason:Stack ->
            io:format("FAIL readme: ~p:~p~n  ~p~n", [Class, Reason, Stack]),
            halt(1)
    after
        os:cmd("rm -rf " ++ Work)
    end.

files(Root) ->
    [filename:join(Root, "README.md") | filelib:wildcard(filename:join([Root, "docs", "*.md"]))].

%% Every ```erlang block of the file, with the file's name.
erlang_blocks(File) ->
    {ok, Text} = file:read_file(File),
    case re:run(Text, "^[ \\t]*```erlang[ \\t]*\\r?\\n(.*?)^[ \\t]*```",
                [global, dotall, multiline, {capture, all_but_first, list}]) of
        {match, Found} -> [{filename:basename(File), Code} || [Code] <- Found];
        nomatch -> []
    end.

first_line(Code) -> hd(string:split(Code, "\n")).

harness(Code) ->
    Known = [{"isolate_then_heal(Config) ->", ct_case},
             {"command(S) ->", proper_command},
             {"-module(kv_client).", kv_client},
             {"ok = ticksplit_workload:load_modules(Nodes", workload}],
    case [H || {Start, H} <- Known, lists:prefix(Start, Code)] of
        [H] -> H;
        [] -> error({no_harness_for_example, first_line(Code)})
    end.

%% A Common Test case: compiled in a module of its own and called with a Config holding the
%% cluster's nodes, as the CT config would.
run(ct_case, Code, Work) ->
    load(Work, readme_ct_case,
         "-include_lib(\"common_test/include/ct.hrl\").\n-export([isolate_then_heal/1]).\n" ++ Code),
    true = readme_ct_case:isolate_then_heal([{nodes, ?APPS}]),
    restore_mesh();
%% A proper_statem command generator: the model's own generators (key/0, value/0) and state
%% record are what the prose says the reader has.
run(proper_command, Code, Work) ->
    load(Work, readme_proper,
         "-export([command/1]).\n-record(state, {nodes, window}).\n"
         "key() -> proper_types:elements([k1, k2]).\nvalue() -> proper_types:integer().\n" ++ Code),
    Gen = readme_proper:command({state, ?APPS, {1500, 2500}}),
    %% one seed per pick (proper_gen:pick/1 seeds from the clock: picks in the same
    %% millisecond come out the same)
    Picked = [begin {ok, C} = proper_gen:pick(Gen, 10, {I, I * 7, I * 13}), C end || I <- lists:seq(1, 60)],
    expect(lists:all(fun({call, _, _, _}) -> true; (_) -> false end, Picked), {not_calls, Picked}),
    Modules = lists:usort([M || {call, M, _, _} <- Picked]),
    expect(lists:member(kv_client, Modules) andalso lists:member(ticksplit, Modules), {one_kind_only, Modules});
%% A ticksplit_client: compiled as written and driven against a register on a cluster node.
run(kv_client, Code, Work) ->
    load(Work, kv_client, Code),
    ok = ticksplit_workload:load_modules([app(1)], [ticksplit_register_server]),
    {ok, _} = ticksplit_register_server:start(app(1), readme_kv),
    try
        {ok, C} = kv_client:open(app(1), #{service => readme_kv}),
        {ok, 5} = kv_client:invoke(#{f => write, key => k, value => 5}, 1000, C),
        {ok, 5} = kv_client:invoke(#{f => read, key => k}, 1000, C),
        {ok, {5, 6}} = kv_client:invoke(#{f => cas, key => k, value => {5, 6}}, 1000, C),
        {fail, mismatch} = kv_client:invoke(#{f => cas, key => k, value => {5, 7}}, 1000, C),
        ok = kv_client:close(C)
    after
        ticksplit_register_server:stop(app(1), readme_kv)
    end;
%% A workload under a nemesis, checked: evaluated as written, with the cluster's nodes bound,
%% in a scratch directory (it writes ops.jsonl).
run(workload, Code, Work) ->
    {ok, Cwd} = file:get_cwd(),
    ok = file:set_cwd(Work),
    try
        [A, B, C] = ?APPS,
        Bindings = erl_eval:add_binding('C', C, erl_eval:add_binding('B', B,
                   erl_eval:add_binding('A', A, erl_eval:add_binding('Nodes', ?APPS, erl_eval:new_bindings())))),
        {ok, Tokens, _} = erl_scan:string(Code),
        {ok, Exprs} = erl_parse:parse_exprs(Tokens),
        {value, {invalid, _}, _} = erl_eval:exprs(Exprs, Bindings)
    after
        ok = file:set_cwd(Cwd),
        ticksplit_mnesia_client:teardown(?APPS, register_table),
        restore_mesh()
    end.

%% Compiles `Body' as module `Mod' (from a file, so that errors name the example's lines).
load(Work, Mod, Body) ->
    Path = filename:join(Work, atom_to_list(Mod) ++ ".erl"),
    Source = case lists:prefix("-module(", Body) of
                 true -> Body;
                 false -> "-module(" ++ atom_to_list(Mod) ++ ").\n" ++ Body
             end,
    ok = file:write_file(Path, Source),
    case compile:file(Path, [binary, return_errors, nowarn_unused_function, nowarn_unused_record]) of
        {ok, Mod, Beam} -> {module, Mod} = code:load_binary(Mod, Path, Beam);
        Error -> error({example_does_not_compile, Mod, Error})
    end.

%% Connects every pair still apart, until every pair has stayed connected for the detection
%% window's maximum (T + T/I): a connection that looked alive right after a heal may still time
%% out (its ticks were lost in the fault), and must then be connected again. 20 s at most.
restore_mesh() ->
    {ok, {_, MaxMs}} = ticksplit:window(app(1)),
    Now = erlang:monotonic_time(millisecond),
    settle(MaxMs, Now, Now + 20000).

settle(MaxMs, ConnectedSince, Deadline) ->
    Now = erlang:monotonic_time(millisecond),
    Apart = [{X, Y} || X <- ?APPS, Y <- ?APPS, X =/= Y, not lists:member(Y, nodes_of(X))],
    [rpc:call(X, net_kernel, connect_node, [Y]) || {X, Y} <- Apart],
    if
        Apart =:= [], Now - ConnectedSince >= MaxMs -> ok;
        Now > Deadline -> error({timeout, mesh_restored, Apart});
        Apart =:= [] -> timer:sleep(50), settle(MaxMs, ConnectedSince, Deadline);
        true -> timer:sleep(50), settle(MaxMs, Now, Deadline)
    end.

nodes_of(X) ->
    case rpc:call(X, erlang, nodes, []) of
        Nodes when is_list(Nodes) -> Nodes;
        _ -> []
    end.
