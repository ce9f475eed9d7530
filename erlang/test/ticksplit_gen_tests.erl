%% The PropEr generators: what they generate, and that they shrink.
-module(ticksplit_gen_tests).
-include_lib("eunit/include/eunit.hrl").

-define(W, {1500, 2500}).
-define(NODES, ['app@198.51.100.11', 'app@198.51.100.12', 'app@198.51.100.13', 'app@198.51.100.14']).

holds(Gen, Pred) ->
    proper:quickcheck(proper:forall(Gen, Pred), [quiet, {numtests, 300}]).

counterexample(Gen, Pred) ->
    proper:counterexample(proper:forall(Gen, Pred), [quiet, {numtests, 300}]).

durations_in_class_test() ->
    [begin
         {Lo, Hi} = ticksplit_window:class_range(C, ?W),
         ?assert(holds(ticksplit_gen:duration(C, ?W), fun(D) -> D >= Lo andalso D =< Hi end)),
         ?assert(holds(ticksplit_gen:duration(C, ?W), fun(D) -> ticksplit_window:classify(D, ?W) =:= C end))
     end || C <- ticksplit_window:classes()].

%% Every class turns up in duration/1.
all_classes_test() ->
    Ds = [proper_gen:pick(ticksplit_gen:duration(?W)) || _ <- lists:seq(1, 300)],
    Classes = lists:usort([ticksplit_window:classify(D, ?W) || {ok, D} <- Ds]),
    ?assertEqual(lists:sort(ticksplit_window:classes()), Classes).

%% A failing duration shrinks to the boundary that makes it fail.
duration_shrinks_test() ->
    ?assertEqual([2000], counterexample(ticksplit_gen:duration(in_window, ?W), fun(D) -> D < 2000 end)).

groups_partition_the_nodes_test() ->
    ?assert(holds(ticksplit_gen:groups(?NODES),
                  fun([G1, G2] = Gs) ->
                          G1 =/= [] andalso G2 =/= [] andalso lists:sort(lists:append(Gs)) =:= ?NODES
                              andalso element(1, ticksplit_groups:drop_sets(Gs)) =:= ok
                  end)).

%% Any split fails the property below; the smallest is one node cut off.
groups_shrink_to_one_node_test() ->
    [[Groups]] = [counterexample(ticksplit_gen:groups(?NODES), fun(_) -> false end)],
    ?assertEqual([lists:droplast(?NODES), [lists:last(?NODES)]], Groups).

%% Nemesis commands are calls the API accepts (checked with its pure parts).
nemesis_commands_test() ->
    ?assert(holds(ticksplit_gen:nemesis(?NODES, ?W), fun valid_call/1)),
    Fs = [element(3, C) || {ok, C} <- [proper_gen:pick(ticksplit_gen:nemesis(?NODES, ?W)) || _ <- lists:seq(1, 200)]],
    ?assertEqual([heal_all, isolate, one_way, split], lists:usort(Fs)).

nemesis_classes_test() ->
    ?assert(holds(ticksplit_gen:nemesis(?NODES, ?W, [below_window]),
                  fun({call, ticksplit, heal_all, _}) -> true;
                     ({call, ticksplit, _, Args}) ->
                          #{duration_ms := D} = lists:last(Args),
                          ticksplit_window:classify(D, ?W) =:= below_window
                  end)).

valid_call({call, ticksplit, split, [Groups, #{duration_ms := D}]}) ->
    element(1, ticksplit_groups:drop_sets(Groups)) =:= ok andalso is_integer(D);
valid_call({call, ticksplit, isolate, [N, #{duration_ms := D, nodes := Ns}]}) ->
    lists:member(N, ?NODES) andalso Ns =:= ?NODES andalso is_integer(D);
valid_call({call, ticksplit, one_way, [F, T, #{duration_ms := D}]}) ->
    F =/= T andalso lists:member(F, ?NODES) andalso lists:member(T, ?NODES) andalso is_integer(D);
valid_call({call, ticksplit, heal_all, [Ns]}) ->
    Ns =:= ?NODES;
valid_call(_) ->
    false.
