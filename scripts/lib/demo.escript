#!/usr/bin/env escript
%%! -hidden
%% The demo's driver (scripts/demo), run in the control namespace as a hidden node: asks
%% each agent for its status, subscribes to all of them, disturbs the cluster, and prints
%% what the agents saw.
-mode(compile).
-include("escript_lib.hrl").

main([]) ->
    start_dist("demo_"),
    Agents = [agent(I) || I <- [1, 2, 3]],
    io:format("~n== what the agents report (gen_server:call({ticksplit, Agent}, status))~n"),
    [show_status(A) || A <- Agents],
    [ok = gen_server:call({ticksplit, A}, {subscribe, self()}) || A <- Agents],

    io:format("~n== app@198.51.100.11 drops its link to app@198.51.100.12 (erlang:disconnect_node/1)~n"),
    true = rpc:call(app(1), erlang, disconnect_node, [app(2)]),
    collect(1000),
    io:format("~n== reconnecting the mesh~n"),
    [rpc:call(app(I), net_kernel, connect_node, [app(J)]) || I <- [1, 2, 3], J <- [1, 2, 3], I =/= J],
    collect(1000),

    io:format("~n== app@198.51.100.13 is stopped and started again; its agent rejoins it~n"),
    Cluster = filename:join(filename:dirname(escript:script_name()), "../cluster"),
    os:cmd(Cluster ++ " stop-node 3"),
    collect(500),
    os:cmd(Cluster ++ " start-node 3"),
    wait_joined(agent(3), 100),
    [rpc:call(app(3), net_kernel, connect_node, [app(J)]) || J <- [1, 2]],
    collect(1000),
    io:format("~nEvery line above came from a ticksplit agent: nodeup/nodedown as each BEAM node~n"
              "saw it (with net_kernel's nodedown_reason), and the agents' own links.~n"
              "The same agents apply partitions in the kernel (see README.md, {partition, Spec}).~n~n").


show_status(Agent) ->
    {ok, #{nodes := Nodes, net_ticktime_ms := T, detection_window_ms := {Min, Max}}} =
        gen_server:call({ticksplit, Agent}, status),
    [io:format("  ~s joined ~s (~s); net_ticktime ~p ms, a silent peer is declared down after ~p..~p ms~n",
               [Agent, N, case C of true -> "connected"; false -> "not connected" end, T, Min, Max])
     || #{node := N, connected := C} <- Nodes].

%% Prints every event that arrives until Quiet ms pass without one.
collect(Quiet) ->
    receive
        {ticksplit_event, Agent, Event} ->
            io:format("  ~-26s ~s~n", [Agent, describe(Event)]),
            collect(Quiet)
    after Quiet -> ok
    end.

describe(#{type := nodedown, observer := O, peer := P, reason := R}) ->
    io_lib:format("nodedown: ~s lost ~s (~p)", [O, P, R]);
describe(#{type := nodeup, observer := O, peer := P}) ->
    io_lib:format("nodeup:   ~s sees ~s", [O, P]);
describe(#{type := node_lost, node := N}) ->
    io_lib:format("node_lost: the agent's link to ~s went down", [N]);
describe(#{type := node_joined, node := N}) ->
    io_lib:format("node_joined: the agent joined ~s again", [N]);
describe(E) ->
    io_lib:format("~p", [E]).

wait_joined(_, 0) -> error(agent_did_not_rejoin);
wait_joined(Agent, N) ->
    receive
        {ticksplit_event, Agent, #{type := node_joined} = E} ->
            io:format("  ~-26s ~s~n", [Agent, describe(E)])
    after 100 -> wait_joined(Agent, N - 1)
    end.
