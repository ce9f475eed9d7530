%% Helpers shared by the escripts that drive a scripts/cluster cluster from its control
%% namespace (scripts/lib, tests/integration). Include with a path relative to the escript.
-compile([nowarn_unused_function]).  % each escript uses some of them

%% Starts distribution with the cluster's net_ticktime (escript ignores ERL_FLAGS).
start_dist(Prefix) ->
    Name = list_to_atom(Prefix ++ os:getpid() ++ "@198.51.100.1"),
    Tick = list_to_integer(os:getenv("TICKSPLIT_TICKTIME", "2")),
    {ok, _} = net_kernel:start(Name, #{name_domain => longnames, net_ticktime => Tick}).

%% Host I's nodes and addresses.
app(I) -> list_to_atom("app@" ++ ip4(I)).
agent(I) -> list_to_atom("ticksplit@" ++ ip4(I)).
ip4(I) -> "198.51.100." ++ integer_to_list(10 + I).
ip6(I) -> "2001:db8::" ++ integer_to_list(10 + I).

call(Agent, Req) -> gen_server:call({ticksplit, Agent}, Req, 2000).

%% A latency bound in µs, scaled by TICKSPLIT_TIMING_SCALE (scripts/test --sanitize sets 3: an
%% ASan build is slower, and the bound is about the design, not the build).
timing_bound(Us) -> Us * list_to_integer(os:getenv("TICKSPLIT_TIMING_SCALE", "1")).

expect(true, _) -> ok;
expect(false, What) -> error(What).

%% Polls Cond every 50 ms for up to 20 s.
await(Cond, What) -> await(Cond, What, 400).
await(_, What, 0) -> error({timeout, What});
await(Cond, What, N) ->
    case Cond() of
        true -> ok;
        false -> timer:sleep(50), await(Cond, What, N - 1)
    end.

%% Whether the agent answers and has joined every node it was given.
agent_joined(Agent) ->
    try call(Agent, status) of
        {ok, #{nodes := Nodes}} -> lists:all(fun(#{connected := C}) -> C end, Nodes);
        _ -> false
    catch exit:_ -> false
    end.

median(Sorted) -> lists:nth(max(1, length(Sorted) div 2), Sorted).
pct(Sorted, P) -> lists:nth(max(1, (length(Sorted) * P) div 100), Sorted).
