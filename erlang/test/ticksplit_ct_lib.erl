%% Helpers shared by the Common Test suites that run on the 3-host cluster.
-module(ticksplit_ct_lib).

-export([mesh/1, await/2]).

%% Connects every pair and waits until every node sees all the others.
-spec mesh([node()]) -> ok.
mesh(Nodes) ->
    await(fun() ->
                  [rpc:call(X, net_kernel, connect_node, [Y]) || X <- Nodes, Y <- Nodes, X =/= Y],
                  lists:all(fun(X) -> Nodes -- [X | rpc:call(X, erlang, nodes, [])] =:= [] end, Nodes)
          end, full_mesh).

%% Polls Cond every 50 ms for up to 10 s; fails the case naming What.
-spec await(fun(() -> boolean()), term()) -> ok.
await(Cond, What) -> await(Cond, What, 200).

await(_, What, 0) -> ct:fail({timeout, What});
await(Cond, What, N) ->
    case Cond() of
        true -> ok;
        false -> timer:sleep(50), await(Cond, What, N - 1)
    end.
