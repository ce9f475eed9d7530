%% @doc From partition shapes to what each agent drops (pure functions).
%%
%% A partition is a list of groups of nodes; every node drops what arrives from the nodes
%% outside its group. Jepsen's other shapes (halves, majorities_ring, bridge) are drop sets
%% over nodes in a given order. An agent drops by address, so nodes that share an agent (a
%% host) can only be cut together: two of them in different groups is an error, not a silent
%% no-op. These are ticksplit-ctl's rules (controller/plan/plan.cpp, topology.cpp);
%% tests/data/golden/shapes.txt, requests.txt and topology.txt pin both.
-module(ticksplit_groups).

-export([drop_sets/1, shape/2, by_agent/2, effective/2]).

-type drop_sets() :: [{node(), [node()]}].
-export_type([drop_sets/0]).

%% @doc For every node of the groups, the nodes it must not hear from.
%% Errors: `{bad_groups, G}' (not a list of at least two non-empty lists of node names),
%% `{bad_node, N}', `{duplicate_node, N}'.
-spec drop_sets([[node()]]) -> {ok, [{node(), [node()]}]} | {error, term()}.
drop_sets(Groups) when is_list(Groups), length(Groups) >= 2 ->
    case lists:all(fun(G) -> is_list(G) andalso G =/= [] end, Groups) of
        false -> {error, {bad_groups, Groups}};
        true ->
            All = lists:append(Groups),
            case check_nodes(All, #{}) of
                ok -> {ok, [{N, All -- G} || G <- Groups, N <- G]};
                Error -> Error
            end
    end;
drop_sets(Groups) ->
    {error, {bad_groups, Groups}}.

%% @doc The drop sets of a shape over `Nodes', in the order given (shuffle first for a random
%% one): `isolate' cuts the first node from the rest; `halves' the first `n div 2' nodes from
%% the rest; `majorities_ring' puts the nodes on a ring where each keeps the majority of
%% consecutive nodes around it (no two the same majority); `bridge' is two halves whose
%% second half's first node sees both. Nodes that drop nothing are left out.
-spec shape(isolate | halves | majorities_ring | bridge, [node()]) -> {ok, drop_sets()} | {error, term()}.
shape(Shape, Nodes) when length(Nodes) >= 2, Shape =:= isolate; length(Nodes) >= 2, Shape =:= halves ->
    {First, Rest} = lists:split(case Shape of isolate -> 1; halves -> length(Nodes) div 2 end, Nodes),
    drop_sets([First, Rest]);
shape(majorities_ring, Nodes) when length(Nodes) >= 3 ->
    with_checked(Nodes, fun() -> non_empty(ring(Nodes)) end);
shape(bridge, Nodes) when length(Nodes) >= 3 ->
    {First, [B | _] = Second} = lists:split(length(Nodes) div 2, Nodes),
    with_checked(Nodes, fun() ->
                                {ok, Drops} = drop_sets([First, Second]),
                                non_empty([{N, Peers -- [B]} || {N, Peers} <- Drops, N =/= B])
                        end);
shape(Shape, Nodes) ->
    {error, {bad_shape, Shape, Nodes}}.

ring(Nodes) ->
    N = length(Nodes),
    M = N div 2 + 1,
    At = list_to_tuple(Nodes),
    [{element(I + 1, At),
      Nodes -- [element((I + N + K - (M - 1) div 2) rem N + 1, At) || K <- lists:seq(0, M - 1)]}
     || I <- lists:seq(0, N - 1)].

non_empty(Drops) -> {ok, [D || {_, Peers} = D <- Drops, Peers =/= []]}.

with_checked(Nodes, Fun) ->
    case check_nodes(Nodes, #{}) of
        ok -> Fun();
        Error -> Error
    end.

%% @doc Merges drop sets per agent: one request per agent, agents in name order, nodes and peers
%% sorted (as ticksplit-ctl). Errors, taking drop sets in node order:
%% `{same_agent, Agent, [NodeA, NodeB]}' when two nodes of one agent would drop different peers
%% (they are in different groups): the agent's first node and the first that disagrees;
%% `{own_host, Agent, [Node, Peer]}' when a node would drop a node of its own agent (its own
%% host): the first node of the first such agent and its first such peer
%% (tests/data/golden/requests.txt).
-spec by_agent([{node(), [node()]}], fun((node()) -> node())) ->
          {ok, [{node(), [node()], [node()]}]} | {error, term()}.
by_agent(DropSets, AgentOf) ->
    merge(lists:keysort(1, DropSets), AgentOf, []).

%% Merged first, so that two nodes of one host on different sides are named as that; then a
%% request that would cut its agent's own host.
merge([], AgentOf, Acc) ->
    PerAgent = lists:keysort(1, [{A, Nodes, lists:usort(Peers)} || {A, Nodes, Peers} <- Acc]),
    case [{A, [N, P]} || {A, [N | _], Peers} <- PerAgent, P <- Peers, AgentOf(P) =:= A] of
        [] -> {ok, PerAgent};
        [{Agent, Pair} | _] -> {error, {own_host, Agent, Pair}}
    end;
merge([{_, []} | Rest], AgentOf, Acc) ->          % drops nothing: no request (as ticksplit-ctl)
    merge(Rest, AgentOf, Acc);
merge([{Node, Peers} | Rest], AgentOf, Acc) ->
    Agent = AgentOf(Node),
    case lists:keyfind(Agent, 1, Acc) of
        false ->
            merge(Rest, AgentOf, [{Agent, [Node], Peers} | Acc]);
        {Agent, Nodes, Same} ->
            case lists:usort(Same) =:= lists:usort(Peers) of   % as sets, as ticksplit-ctl
                true -> merge(Rest, AgentOf, lists:keyreplace(Agent, 1, Acc, {Agent, Nodes ++ [Node], Same}));
                false -> {error, {same_agent, Agent, [hd(Nodes), Node]}}
            end
    end.

%% @doc What the drop sets really do to distribution, which runs over one TCP connection per
%% pair of nodes: a link stays up only if neither end drops the other (one direction dropped
%% starves the other through retransmission backoff, and both ends time out). `cut' and `up'
%% are the links (`{A, B}' with A before B, sorted), `one_way' the cut ones only one end drops, `groups'
%% the nodes that still reach each other (each sorted, ordered by their first node). So
%% majorities_ring on 3 nodes leaves every node alone. ticksplit-ctl computes the same
%% (controller/plan/topology.cpp; tests/data/golden/topology.txt).
-spec effective([node()], [{node(), [node()]}]) ->
          #{cut := [{node(), node()}], one_way := [{node(), node()}], up := [{node(), node()}],
            groups := [[node()]]}.
effective(Nodes, DropSets) ->
    Sorted = lists:usort(Nodes),
    Drops = fun(Who, Whom) -> lists:member(Whom, proplists:get_value(Who, DropSets, [])) end,
    Pairs = [{A, B, Drops(A, B), Drops(B, A)} || A <- Sorted, B <- Sorted, A < B],
    Up = [{A, B} || {A, B, false, false} <- Pairs],
    #{cut => [{A, B} || {A, B, AB, BA} <- Pairs, AB orelse BA],
      one_way => [{A, B} || {A, B, AB, BA} <- Pairs, AB =/= BA],
      up => Up,
      groups => lists:sort(components(Sorted, Up))}.

%% Connected components over the links, each sorted.
components([], _) -> [];
components([N | _] = Nodes, Links) ->
    Component = lists:sort(reach([N], Links, [])),
    [Component | components(Nodes -- Component, Links)].

reach([], _, Seen) -> Seen;
reach([N | Rest], Links, Seen) ->
    case lists:member(N, Seen) of
        true -> reach(Rest, Links, Seen);
        false ->
            Next = [B || {A, B} <- Links, A =:= N] ++ [A || {A, B} <- Links, B =:= N],
            reach(Next ++ Rest, Links, [N | Seen])
    end.

check_nodes([], _) -> ok;
check_nodes([N | Rest], Seen) ->
    case ticksplit_node:valid(N) andalso is_atom(N) of
        false -> {error, {bad_node, N}};
        true when is_map_key(N, Seen) -> {error, {duplicate_node, N}};
        true -> check_nodes(Rest, Seen#{N => true})
    end.

