%% The example target and clients on this node alone: the register server and its client
%% (over erpc to this node), and the mnesia register (RAM copies on this node).
-module(ticksplit_examples_tests).
-include_lib("eunit/include/eunit.hrl").

-define(REG, ticksplit_examples_tests_register).
-define(TABLE, ticksplit_examples_tests_table).

register_client_test() ->
    {ok, Pid} = ticksplit_register_server:start(node(), ?REG),
    try
        ?assertNot(lists:member(Pid, element(2, process_info(self(), links)))),   % not linked
        {ok, S} = ticksplit_register_client:open(node(), #{target => {local, ?REG, node()}}),
        I = fun(F, V) -> ticksplit_register_client:invoke(#{f => F, value => V}, 1000, S) end,
        ?assertEqual({ok, null}, I(read, null)),
        ?assertEqual({ok, 5}, I(write, 5)),
        ?assertEqual({ok, 5}, I(read, null)),
        ?assertEqual({ok, [5, 6]}, I(cas, {5, 6})),
        ?assertEqual({fail, mismatch}, I(cas, [5, 7])),
        ?assertEqual({ok, [6, 7]}, I(cas, [6, 7])),
        ?assertEqual({ok, 7}, I(read, null)),
        ?assertEqual({fail, {unsupported, add}}, I(add, 1)),
        %% keys are independent registers
        K = fun(F, V, Key) -> ticksplit_register_client:invoke(#{f => F, value => V, key => Key}, 1000, S) end,
        ?assertEqual({ok, null}, K(read, null, 0)),
        ?assertEqual({ok, 9}, K(write, 9, 0)),
        ?assertEqual({ok, [null, 1]}, K(cas, {null, 1}, 1)),
        ?assertEqual({ok, 9}, K(read, null, 0)),
        ?assertEqual({ok, 1}, K(read, null, 1)),
        ?assertEqual({ok, 7}, I(read, null)),
        ?assertEqual(ok, ticksplit_register_client:close(S)),
        ?assertEqual({error, {bad_options, #{}}}, ticksplit_register_client:open(node(), #{})),
        ?assertEqual(ok, ticksplit_register_server:stop(node(), ?REG)),
        ?assertEqual({fail, noproc}, I(read, null)),                 % nobody got the request
        ?assertEqual(ok, ticksplit_register_server:stop(node(), ?REG))   % already gone: ok
    after
        ticksplit_register_server:stop(node(), ?REG)
    end.

%% A server that never answers: the timeout propagates (the workload records info).
register_client_timeout_propagates_test() ->
    Silent = spawn(fun() -> receive stop -> ok end end),
    true = register(?REG, Silent),
    try
        {ok, S} = ticksplit_register_client:open(node(), #{target => {local, ?REG, node()}}),
        ?assertExit({exception, {timeout, _}},
                    ticksplit_register_client:invoke(#{f => read, value => null}, 50, S))
    after
        Silent ! stop
    end.

global_register_test() ->
    {ok, Pid} = ticksplit_register_server:start_global(node(), ?REG),
    try
        ?assertEqual(Pid, global:whereis_name(?REG)),
        {ok, S} = ticksplit_register_client:open(node(), #{target => {global, ?REG}}),
        ?assertEqual({ok, 3}, ticksplit_register_client:invoke(#{f => write, value => 3}, 1000, S)),
        ?assertEqual({ok, 3}, ticksplit_register_client:invoke(#{f => read, value => null}, 1000, S)),
        ?assertEqual(ok, ticksplit_register_server:stop_global(?REG)),
        ?assertEqual({fail, noproc}, ticksplit_register_client:invoke(#{f => read, value => null}, 1000, S)),
        ?assertEqual(ok, ticksplit_register_server:stop_global(?REG))
    after
        ticksplit_register_server:stop_global(?REG)
    end.

%% The register server under a workload, with a final read.
register_workload_test() ->
    {ok, _} = ticksplit_register_server:start(node(), ?REG),
    File = filename:join(tmp(), "ticksplit_examples_tests-" ++ integer_to_list(erlang:unique_integer([positive])) ++ ".jsonl"),
    try
        {ok, #{ok := Ok, info := 0, final := [#{outcome := {ok, Last}}]}} =
            ticksplit_workload:run(#{client => {ticksplit_register_client, #{target => {local, ?REG, node()}}},
                                     nodes => [node()], clients => 2, rate => 200, duration_ms => 200,
                                     history => File, final => [{read, null}],
                                     ops => [{1, read, null}, {1, write, unique},
                                             {1, cas, fun() -> {rand:uniform(3), rand:uniform(3)} end}]}),
        ?assert(Ok >= 1),
        {ok, S} = ticksplit_register_client:open(node(), #{target => {local, ?REG, node()}}),
        ?assertEqual({ok, Last}, ticksplit_register_client:invoke(#{f => read, value => null}, 1000, S))
    after
        ticksplit_register_server:stop(node(), ?REG),
        file:delete(File)
    end.

mnesia_client_test() ->
    ok = ticksplit_mnesia_client:setup([node()], ?TABLE),
    try
        ok = ticksplit_mnesia_client:setup([node()], ?TABLE),      % again: the table is replaced
        {ok, S} = ticksplit_mnesia_client:open(node(), #{table => ?TABLE}),
        I = fun(F, K, V) -> ticksplit_mnesia_client:invoke(#{f => F, key => K, value => V}, 1000, S) end,
        ?assertEqual({ok, null}, I(read, k1, null)),
        ?assertEqual({ok, 4}, I(write, k1, 4)),
        ?assertEqual({ok, 4}, I(read, k1, null)),
        ?assertEqual({ok, null}, I(read, k2, null)),
        ?assertEqual({ok, [4, 5]}, I(cas, k1, {4, 5})),
        ?assertEqual({fail, {mismatch, 5}}, I(cas, k1, [4, 6])),
        ?assertEqual({fail, {mismatch, null}}, I(cas, k2, [4, 6])),
        ?assertEqual({ok, [null, 1]}, I(cas, k2, [null, 1])),
        ?assertEqual({ok, 8}, ticksplit_mnesia_client:invoke(#{f => write, value => 8}, 1000, S)),
        ?assertEqual([{?TABLE, register, 8}], mnesia:dirty_read(?TABLE, register)),
        ?assertEqual({fail, {unsupported, drain}}, I(drain, k1, null)),
        ?assertEqual({error, {bad_options, #{}}}, ticksplit_mnesia_client:open(node(), #{}))
    after
        ?assertEqual(ok, ticksplit_mnesia_client:teardown([node()], ?TABLE))
    end,
    ?assertEqual(no, mnesia:system_info(is_running)).

tmp() ->
    case os:getenv("TMPDIR") of
        D when is_list(D), D =/= "" -> D;
        _ -> "/tmp"
    end.
