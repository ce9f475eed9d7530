%% Partition shapes to drop sets, and drop sets to one request per agent.
-module(ticksplit_groups_tests).
-include_lib("eunit/include/eunit.hrl").

-define(A, 'app@198.51.100.11').
-define(B, 'app@198.51.100.12').
-define(C, 'app@198.51.100.13').
-define(D, 'app@198.51.100.14').

two_groups_test() ->
    ?assertEqual({ok, [{?A, [?B, ?C]}, {?B, [?A]}, {?C, [?A]}]},
                 ticksplit_groups:drop_sets([[?A], [?B, ?C]])).

three_groups_test() ->
    ?assertEqual({ok, [{?A, [?B, ?C, ?D]}, {?B, [?A, ?D]}, {?C, [?A, ?D]}, {?D, [?A, ?B, ?C]}]},
                 ticksplit_groups:drop_sets([[?A], [?B, ?C], [?D]])).

%% Every node drops exactly the nodes outside its group: symmetric, and never itself.
drop_sets_symmetric_test() ->
    {ok, Drops} = ticksplit_groups:drop_sets([[?A, ?D], [?B], [?C]]),
    [begin
         ?assertNot(lists:member(N, Peers)),
         [?assert(lists:member(N, proplists:get_value(P, Drops))) || P <- Peers]
     end || {N, Peers} <- Drops].

bad_groups_test() ->
    ?assertEqual({error, {bad_groups, [[?A, ?B]]}}, ticksplit_groups:drop_sets([[?A, ?B]])),
    ?assertEqual({error, {bad_groups, [[?A], []]}}, ticksplit_groups:drop_sets([[?A], []])),
    ?assertEqual({error, {bad_groups, nodes}}, ticksplit_groups:drop_sets(nodes)),
    ?assertEqual({error, {duplicate_node, ?A}}, ticksplit_groups:drop_sets([[?A], [?B, ?A]])),
    ?assertEqual({error, {bad_node, app}}, ticksplit_groups:drop_sets([[app], [?B]])),
    ?assertEqual({error, {bad_node, "app@h"}}, ticksplit_groups:drop_sets([["app@h"], [?B]])),
    ?assertEqual({error, {bad_node, 'a@b@c'}}, ticksplit_groups:drop_sets([['a@b@c'], [?B]])).

agent_of(N) -> list_to_atom("ticksplit@" ++ lists:last(string:split(atom_to_list(N), "@"))).

one_request_per_agent_test() ->
    {ok, Drops} = ticksplit_groups:drop_sets([[?A], [?B, ?C]]),
    ?assertEqual({ok, [{'ticksplit@198.51.100.11', [?A], [?B, ?C]},
                       {'ticksplit@198.51.100.12', [?B], [?A]},
                       {'ticksplit@198.51.100.13', [?C], [?A]}]},
                 ticksplit_groups:by_agent(Drops, fun agent_of/1)).

%% Two nodes on one host in the same group: one request, both nodes named.
shared_host_same_group_test() ->
    X = 'other@198.51.100.12',
    {ok, Drops} = ticksplit_groups:drop_sets([[?A], [?B, X]]),
    ?assertEqual({ok, [{'ticksplit@198.51.100.11', [?A], [?B, X]},
                       {'ticksplit@198.51.100.12', [?B, X], [?A]}]},
                 ticksplit_groups:by_agent(Drops, fun agent_of/1)).

%% Two nodes on one host in different groups cannot be cut apart by address: an error.
shared_host_split_apart_test() ->
    X = 'other@198.51.100.11',
    {ok, Drops} = ticksplit_groups:drop_sets([[?A], [?B, X]]),
    ?assertEqual({error, {same_agent, 'ticksplit@198.51.100.11', [?A, X]}},
                 ticksplit_groups:by_agent(Drops, fun agent_of/1)).

%%% The rules ticksplit-ctl shares (tests/unit/ctl_plan_test.cpp reads the same files)

shapes_golden_vectors_test() ->
    Rows = ticksplit_golden:rows("shapes.txt"),
    ?assertEqual(25, length(Rows)),
    [begin
         {ok, Drops} = case Shape of
                           "groups" ->
                               ticksplit_groups:drop_sets([atoms(G) || G <- string:split(Nodes, "|", all)]);
                           _ ->
                               ticksplit_groups:shape(list_to_atom(Shape), atoms(Nodes))
                       end,
         ?assertEqual({Shape, Nodes, Want}, {Shape, Nodes, drops_text(Drops)})
     end || [Shape, Nodes, Want] <- Rows].

requests_golden_vectors_test() ->
    Rows = ticksplit_golden:rows("requests.txt"),
    ?assert(length(Rows) >= 8),
    [begin
         Drops = [begin
                      [N, Ps] = string:split(Entry, "="),
                      {list_to_atom(N), [list_to_atom(P) || P <- string:split(Ps, "+", all)]}
                  end || Entry <- string:split(DropText, ";", all)],
         Got = case ticksplit_groups:by_agent(Drops, fun ticksplit_node:default_agent/1) of
                   {ok, PerAgent} ->
                       lists:join(";", [[atom_to_list(A), "=", join(lists:sort(Ns), "+"), ">",
                                         join(lists:sort(Ps), "+")]
                                        || {A, Ns, Ps} <- lists:sort(PerAgent)]);
                   {error, {Why, _, [Node, Other]}} ->
                       ["error:", atom_to_list(Why), ":", atom_to_list(Node), ",", atom_to_list(Other)]
               end,
         ?assertEqual({DropText, Want}, {DropText, lists:flatten(Got)})
     end || [DropText, Want] <- Rows].

topology_golden_vectors_test() ->
    Rows = ticksplit_golden:rows("topology.txt"),
    ?assert(length(Rows) >= 25),
    [begin
         Drops = case DropText of
                     "-" -> [];
                     _ -> [begin
                               [N, Ps] = string:split(Entry, "="),
                               {list_to_atom(N), [list_to_atom(P) || P <- string:split(Ps, "+", all)]}
                           end || Entry <- string:split(DropText, ";", all)]
                 end,
         #{cut := Cut, one_way := OneWay, groups := Groups} = ticksplit_groups:effective(atoms(NodesText), Drops),
         Got = {links_text(Cut), links_text(OneWay),
                lists:flatten(lists:join("|", [join(G, ",") || G <- Groups]))},
         ?assertEqual({DropText, {CutText, OneWayText, GroupsText}}, {DropText, Got})
     end || [NodesText, DropText, CutText, OneWayText, GroupsText] <- Rows].

links_text([]) -> "-";
links_text(Links) -> lists:flatten(lists:join(",", [[atom_to_list(A), "/", atom_to_list(B)] || {A, B} <- Links])).

atoms(Text) -> [list_to_atom(N) || N <- string:split(Text, ",", all)].

join(Atoms, Sep) -> lists:join(Sep, [atom_to_list(A) || A <- Atoms]).

%% "a=b+c;d=e", nodes and peers sorted, nodes dropping nothing left out
drops_text(Drops) ->
    lists:flatten(lists:join(";", [[atom_to_list(N), "=", join(lists:sort(Ps), "+")]
                                   || {N, Ps} <- lists:sort(Drops), Ps =/= []])).

shape_errors_test() ->
    ?assertMatch({error, {bad_shape, bridge, _}}, ticksplit_groups:shape(bridge, [?A, ?B])),
    ?assertMatch({error, {bad_shape, sideways, _}}, ticksplit_groups:shape(sideways, [?A, ?B, ?C])),
    ?assertEqual({error, {duplicate_node, ?A}}, ticksplit_groups:shape(majorities_ring, [?A, ?B, ?A])).
