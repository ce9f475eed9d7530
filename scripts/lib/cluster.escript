#!/usr/bin/env escript
%%! -hidden
%% Helper of scripts/cluster, run in the control namespace as a hidden node:
%%   mesh N    waits for app@198.51.100.(10+i), i = 1..N, and connects them in a full mesh
%%   agents N  waits until every host's agent answers status with its node joined
-mode(compile).
-include("escript_lib.hrl").

main(["mesh", N]) ->
    start_dist("cluster_"),
    Nodes = app_nodes(list_to_integer(N)),
    [wait(fun() -> net_adm:ping(Node) =:= pong end, {node_up, Node}) || Node <- Nodes],
    [true = rpc:call(A, net_kernel, connect_node, [B]) || A <- Nodes, B <- Nodes, A =/= B],
    Want = length(Nodes) - 1,
    [wait(fun() -> length(rpc:call(Node, erlang, nodes, [])) =:= Want end, {mesh, Node})
     || Node <- Nodes],
    ok;
main(["agents", N]) ->
    start_dist("cluster_"),
    Hosts = lists:seq(1, list_to_integer(N)),
    [wait(fun() -> agent_joined(agent(I)) end, {agent_joined, I}) || I <- Hosts],
    ok;
main(_) ->
    io:format(standard_error, "usage: cluster.escript mesh N | agents N~n", []),
    halt(2).

app_nodes(N) -> [app(I) || I <- lists:seq(1, N)].

%% Polls Cond every 50 ms for up to 30 s.
wait(Cond, What) -> wait(Cond, What, 600).
wait(_Cond, What, 0) ->
    io:format(standard_error, "scripts/cluster: timed out waiting for ~p~n", [What]),
    halt(1);
wait(Cond, What, Left) ->
    case Cond() of
        true -> ok;
        false -> timer:sleep(50), wait(Cond, What, Left - 1)
    end.
