%% @doc From partition shapes to what each agent drops (pure functions).
%%
%% A partition is a list of groups of nodes; every node drops what arrives from the nodes
%% outside its group. An agent drops by address, so nodes that share an agent (a host) can
%% only be cut together: two of them in different groups is an error, not a silent no-op.
-module(ticksplit_groups).

-export([drop_sets/1, by_agent/2]).

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

%% @doc Merges drop sets per agent: one request per agent, peers in a stable order.
%% Error: `{same_agent, Agent, [NodeA, NodeB]}' when two nodes of one agent would drop
%% different peers (they are in different groups).
-spec by_agent([{node(), [node()]}], fun((node()) -> node())) ->
          {ok, [{node(), [node()], [node()]}]} | {error, term()}.
by_agent(DropSets, AgentOf) ->
    merge(DropSets, AgentOf, []).

merge([], _, Acc) ->
    {ok, lists:reverse(Acc)};
merge([{Node, Peers} | Rest], AgentOf, Acc) ->
    Agent = AgentOf(Node),
    case lists:keyfind(Agent, 1, Acc) of
        false ->
            merge(Rest, AgentOf, [{Agent, [Node], Peers} | Acc]);
        {Agent, Nodes, Same} when Same =:= Peers ->
            merge(Rest, AgentOf, lists:keyreplace(Agent, 1, Acc, {Agent, Nodes ++ [Node], Same}));
        {Agent, [Other | _], _} ->
            {error, {same_agent, Agent, [Other, Node]}}
    end.

check_nodes([], _) -> ok;
check_nodes([N | Rest], Seen) ->
    case ticksplit_node:valid(N) andalso is_atom(N) of
        false -> {error, {bad_node, N}};
        true when is_map_key(N, Seen) -> {error, {duplicate_node, N}};
        true -> check_nodes(Rest, Seen#{N => true})
    end.

