#!/usr/bin/env escript
%%! -hidden
%% Helper of scripts/cluster, run in the control namespace as a hidden node:
%%   mesh N    waits for app@198.51.100.(10+i), i = 1..N, and connects them in a full mesh
%%   agents N  waits until every host's agent answers status with its node joined
-mode(compile).

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
    [wait(fun() -> agent_joined(I) end, {agent_joined, I}) || I <- Hosts],
    ok;
main(_) ->
    io:format(standard_error, "usage: cluster.escript mesh N | agents N~n", []),
    halt(2).

%% Starts distribution with the cluster's net_ticktime (escript ignores ERL_FLAGS).
start_dist(Prefix) ->
    Name = list_to_atom(Prefix ++ os:getpid() ++ "@198.51.100.1"),
    Tick = list_to_integer(os:getenv("TICKSPLIT_TICKTIME", "2")),
    {ok, _} = net_kernel:start(Name, #{name_domain => longnames, net_ticktime => Tick}).

app_nodes(N) -> [node_name("app", I) || I <- lists:seq(1, N)].

node_name(Alive, I) ->
    list_to_atom(Alive ++ "@198.51.100." ++ integer_to_list(10 + I)).

agent_joined(I) ->
    Agent = node_name("ticksplit", I),
    try gen_server:call({ticksplit, Agent}, status, 1000) of
        {ok, #{nodes := Nodes}} -> lists:all(fun(#{connected := C}) -> C end, Nodes);
        _ -> false
    catch
        exit:_ -> false
    end.

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
