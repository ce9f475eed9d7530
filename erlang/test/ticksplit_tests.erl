%% The parts of the API that need no agent: agent names and option checking. Requests that
%% are wrong never reach an agent (the names below do not resolve to any).
-module(ticksplit_tests).
-include_lib("eunit/include/eunit.hrl").

-define(A, 'app@198.51.100.11').
-define(B, 'app@198.51.100.12').

agent_of_default_test() ->
    application:unset_env(ticksplit, agents),
    ?assertEqual('ticksplit@198.51.100.11', ticksplit:agent_of(?A)),
    ?assertEqual('ticksplit@db-3.example', ticksplit:agent_of('db@db-3.example')),
    ?assertError({bad_node, nohost}, ticksplit:agent_of(nohost)).

agent_of_map_test() ->
    application:set_env(ticksplit, agents, #{?A => 'nemesis@10.0.0.9'}),
    try
        ?assertEqual('nemesis@10.0.0.9', ticksplit:agent_of(?A)),
        ?assertEqual('ticksplit@198.51.100.12', ticksplit:agent_of(?B))   % not in the map
    after application:unset_env(ticksplit, agents)
    end.

agent_of_fun_test() ->
    application:set_env(ticksplit, agents, fun(N) -> list_to_atom("agent_" ++ atom_to_list(N)) end),
    try ?assertEqual('agent_app@198.51.100.11', ticksplit:agent_of(?A))
    after application:unset_env(ticksplit, agents)
    end.

agent_of_bad_env_test() ->
    application:set_env(ticksplit, agents, [not_a_map]),
    try ?assertError({bad_application_env, agents, [not_a_map]}, ticksplit:agent_of(?A))
    after application:unset_env(ticksplit, agents)
    end.

options_test_() ->
    G = [[?A], [?B]],
    [?_assertEqual({error, missing_duration}, ticksplit:split(G, #{})),
     ?_assertEqual({error, {conflicting_options, duration_ms, duration}},
                   ticksplit:split(G, #{duration_ms => 100, duration => in_window})),
     ?_assertEqual({error, {bad_option, duration_ms, 0}}, ticksplit:split(G, #{duration_ms => 0})),
     ?_assertEqual({error, {bad_option, duration, soon}}, ticksplit:split(G, #{duration => soon})),
     ?_assertEqual({error, {bad_option, duration, "2.9x"}}, ticksplit:split(G, #{duration => "2.9x"})),
     ?_assertEqual({error, {bad_option, duration, <<"-1s">>}}, ticksplit:split(G, #{duration => <<"-1s">>})),
     ?_assertEqual({error, {bad_option, direction, sideways}},
                   ticksplit:split(G, #{duration_ms => 100, direction => sideways})),
     ?_assertEqual({error, {bad_option, id, <<>>}}, ticksplit:split(G, #{duration_ms => 100, id => <<>>})),
     ?_assertEqual({error, {bad_option, start_at_us, 1.5}},
                   ticksplit:split(G, #{duration_ms => 100, start_at_us => 1.5})),
     ?_assertEqual({error, {unknown_option, nodes}}, ticksplit:split(G, #{duration_ms => 100, nodes => []})),
     ?_assertEqual({error, {unknown_option, direction}},
                   ticksplit:one_way(?A, ?B, #{duration_ms => 100, direction => out})),
     ?_assertEqual({error, {bad_option, options, [{duration_ms, 100}]}},
                   ticksplit:split(G, [{duration_ms, 100}])),
     ?_assertEqual({error, {bad_option, nodes, [<<"x">>]}},
                   ticksplit:isolate(?A, #{duration_ms => 100, nodes => [<<"x">>]}))].

%% A pause takes the partitions' options but those about packets and the cluster: a stopped
%% process neither sends nor reads. Bad options and names never reach an agent.
pause_options_test_() ->
    Long = binary:copy(<<"x">>, 129),    % ids are 1 to 128 bytes
    [?_assertEqual({error, missing_duration}, ticksplit:pause(?A, #{})),
     ?_assertEqual({error, {conflicting_options, duration_ms, duration}},
                   ticksplit:pause(?A, #{duration_ms => 100, duration => above_window})),
     ?_assertEqual({error, {bad_option, duration_ms, -5}}, ticksplit:pause(?A, #{duration_ms => -5})),
     ?_assertEqual({error, {bad_option, duration, "4 s"}}, ticksplit:pause(?A, #{duration => "4 s"})),
     ?_assertEqual({error, {bad_option, id, Long}}, ticksplit:pause(?A, #{duration_ms => 100, id => Long})),
     ?_assertEqual({error, {bad_option, start_at_us, now}},
                   ticksplit:pause(?A, #{duration_ms => 100, start_at_us => now})),
     ?_assertEqual({error, {unknown_option, direction}},
                   ticksplit:pause(?A, #{duration_ms => 100, direction => both})),
     ?_assertEqual({error, {unknown_option, loss}}, ticksplit:pause(?A, #{duration_ms => 100, loss => 0.5})),
     ?_assertEqual({error, {unknown_option, nodes}}, ticksplit:pause(?A, #{duration_ms => 100, nodes => [?B]})),
     ?_assertEqual({error, {bad_option, options, [{duration_ms, 100}]}}, ticksplit:pause(?A, [{duration_ms, 100}])),
     ?_assertEqual({error, {bad_node, nohost}}, ticksplit:pause(nohost, #{duration_ms => 100})),
     ?_assertEqual({error, {bad_node, "app@h"}}, ticksplit:pause("app@h", #{duration_ms => 100}))].

%% A call-timeout class is sized by `call_timeout' (ms or a duration, 1 s to 1 h), which sizes
%% nothing else; both are checked before any agent is asked.
call_timeout_options_test_() ->
    G = [[?A], [?B]],
    Unreachable = {error, {unreachable, 'ticksplit@198.51.100.11', noconnection}},
    [?_assertEqual({error, {call_timeout_without_call_class, above_window}},
                   ticksplit:split(G, #{duration => above_window, call_timeout => 1000})),
     ?_assertEqual({error, {call_timeout_without_call_class, duration_ms}},
                   ticksplit:pause(?A, #{duration_ms => 100, call_timeout => 1000})),
     ?_assertEqual({error, {bad_option, call_timeout, 999}},
                   ticksplit:split(G, #{duration => above_call_timeout, call_timeout => 999})),
     ?_assertEqual({error, {bad_option, call_timeout, "2T"}},
                   ticksplit:split(G, #{duration => above_call_timeout, call_timeout => "2T"})),
     ?_assertEqual({error, {bad_option, call_timeout, "0.5s"}},
                   ticksplit:isolate(?A, #{duration => below_call_timeout, call_timeout => "0.5s", nodes => [?B]})),
     ?_assertEqual({error, {bad_option, duration, above_call}}, ticksplit:split(G, #{duration => above_call})),
     %% valid: they get as far as the agent
     ?_assertEqual(Unreachable, ticksplit:split(G, #{duration => above_call_timeout, call_timeout => "1.5s"})),
     ?_assertEqual(Unreachable, ticksplit:split(G, #{duration => around_call_timeout})),
     ?_assertEqual(Unreachable, ticksplit:pause(?A, #{duration => below_call_timeout, call_timeout => 3000}))].

%% A kill_process takes its restart window, a start and an id; its target is a name or a
%% supervisor. Bad options, names and targets never reach an agent.
kill_process_options_test_() ->
    W = {name, ts_worker},
    [?_assertEqual({error, {bad_option, restart_window_ms, 9}}, ticksplit:kill_process(?A, W, #{restart_window_ms => 9})),
     ?_assertEqual({error, {bad_option, restart_window_ms, 60001}},
                   ticksplit:kill_process(?A, W, #{restart_window_ms => 60001})),
     ?_assertEqual({error, {unknown_option, duration_ms}}, ticksplit:kill_process(?A, W, #{duration_ms => 100})),
     ?_assertEqual({error, {bad_option, start_at_us, now}}, ticksplit:kill_process(?A, W, #{start_at_us => now})),
     ?_assertEqual({error, {bad_option, options, []}}, ticksplit:kill_process(?A, W, [])),
     ?_assertEqual({error, {bad_node, nohost}}, ticksplit:kill_process(nohost, W, #{})),
     ?_assertEqual({error, {bad_target, {name, "ts_worker"}}}, ticksplit:kill_process(?A, {name, "ts_worker"}, #{})),
     ?_assertEqual({error, {bad_target, {child_of, sup}}}, ticksplit:kill_process(?A, {child_of, sup}, #{})),
     ?_assertEqual({error, {bad_target, {supervisor, undefined}}},
                   ticksplit:kill_process(?A, {supervisor, undefined}, #{})),
     ?_assertEqual({error, {bad_target, ts_worker}}, ticksplit:kill_process(?A, ts_worker, #{}))].

%% A stress takes a pause's options and `hogs' (1..16). Bad ones never reach an agent.
stress_options_test_() ->
    [?_assertEqual({error, missing_duration}, ticksplit:stress(?A, #{})),
     ?_assertEqual({error, {bad_option, hogs, 0}}, ticksplit:stress(?A, #{duration_ms => 100, hogs => 0})),
     ?_assertEqual({error, {bad_option, hogs, 17}}, ticksplit:stress(?A, #{duration_ms => 100, hogs => 17})),
     ?_assertEqual({error, {bad_option, hogs, 2.0}}, ticksplit:stress(?A, #{duration_ms => 100, hogs => 2.0})),
     ?_assertEqual({error, {unknown_option, loss}}, ticksplit:stress(?A, #{duration_ms => 100, loss => 0.5})),
     ?_assertEqual({error, {unknown_option, direction}},
                   ticksplit:stress(?A, #{duration_ms => 100, direction => in})),
     ?_assertEqual({error, {bad_node, nohost}}, ticksplit:stress(nohost, #{duration_ms => 100, hogs => 2}))].

shapes_test_() ->
    [?_assertEqual({error, {bad_groups, [[?A, ?B]]}}, ticksplit:split([[?A, ?B]], #{duration_ms => 100})),
     ?_assertEqual({error, {duplicate_node, ?A}}, ticksplit:split([[?A], [?A]], #{duration_ms => 100})),
     ?_assertEqual({error, {duplicate_node, ?A}}, ticksplit:one_way(?A, ?A, #{duration_ms => 100})),
     ?_assertEqual({error, {no_peers, ?A}}, ticksplit:isolate(?A, #{duration_ms => 100, nodes => [?A]})),
     ?_assertEqual({error, {same_agent, 'ticksplit@198.51.100.11', [?A, 'b@198.51.100.11']}},
                   ticksplit:split([[?A], ['b@198.51.100.11']], #{duration_ms => 100}))].

%% Without distribution no agent can be reached: the error names the agent.
unreachable_agent_test() ->
    ?assertEqual(nonode@nohost, node()),
    ?assertEqual({error, {unreachable, 'ticksplit@198.51.100.11', noconnection}},
                 ticksplit:split([[?A], [?B]], #{duration_ms => 100})),
    ?assertMatch({error, {unreachable, 'ticksplit@198.51.100.12', _}}, ticksplit:status(?B)),
    ?assertMatch({error, {unreachable, 'ticksplit@198.51.100.12', _}},
                 ticksplit:status('ticksplit@198.51.100.12')).

%% The pause goes to the agent of the node, as the `agents' environment says.
pause_asks_the_node_s_agent_test() ->
    ?assertEqual({error, {unreachable, 'ticksplit@198.51.100.11', noconnection}},
                 ticksplit:pause(?A, #{duration_ms => 100})),
    application:set_env(ticksplit, agents, #{?A => 'nemesis@10.0.0.9'}),
    try ?assertEqual({error, {unreachable, 'nemesis@10.0.0.9', noconnection}},
                     ticksplit:pause(?A, #{duration => above_window, id => <<"p-1">>}))
    after application:unset_env(ticksplit, agents)
    end.

%% ticksplit-ctl arms with the same lead (tests/data/golden/arming.txt).
start_lead_test() ->
    [Lead] = [list_to_integer(V) || ["start_lead_ms", V] <- ticksplit_golden:rows("arming.txt")],
    ?assertEqual(Lead, ticksplit:start_lead_ms()).

%% kill_node/2's options are checked before any agent is asked: no duration (the kill is an
%% instant), a restart given one way, a valid node.
kill_node_options_test() ->
    ?assertEqual({error, {unknown_option, duration_ms}}, ticksplit:kill_node('a@h', #{duration_ms => 5})),
    ?assertEqual({error, {bad_option, restart_after_ms, 0}}, ticksplit:kill_node('a@h', #{restart_after_ms => 0})),
    ?assertEqual({error, {bad_option, restart_after, "soon"}}, ticksplit:kill_node('a@h', #{restart_after => "soon"})),
    ?assertEqual({error, {conflicting_options, restart_after_ms, restart_after}},
                 ticksplit:kill_node('a@h', #{restart_after_ms => 5, restart_after => "1s"})),
    ?assertEqual({error, {bad_node, nohost}}, ticksplit:kill_node(nohost, #{})),
    ?assertEqual({error, {bad_option, options, x}}, ticksplit:kill_node('a@h', x)).
