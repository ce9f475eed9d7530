%% The PropEr generators: what they generate, and that they shrink.
-module(ticksplit_gen_tests).
-include_lib("eunit/include/eunit.hrl").

%% A proper_statem model whose only commands are the nemesis (callbacks below).
-export([initial_state/0, command/1, precondition/2, next_state/3, postcondition/3]).

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
    [?assertNot(holds(ticksplit_gen:duration(?W), fun(D) -> ticksplit_window:classify(D, ?W) =/= C end))
     || C <- ticksplit_window:classes()].

%% A failing duration shrinks to the boundary that makes it fail.
duration_shrinks_test() ->
    ?assertEqual([2000], counterexample(ticksplit_gen:duration(in_window, ?W), fun(D) -> D < 2000 end)).

%% Call-timeout classes: in their range for the call timeout, shrinking to its short end; a
%% class the window is too short for is no generator at all.
call_durations_test() ->
    W20 = ticksplit_window:detection_window(20000, 4),
    [begin
         {ok, {Lo, Hi}} = ticksplit_window:call_class_range(C, 1000, W20),
         ?assert(holds(ticksplit_gen:call_duration(C, 1000, W20), fun(D) -> D >= Lo andalso D =< Hi end)),
         ?assertEqual([Lo], counterexample(ticksplit_gen:call_duration(C, 1000, W20), fun(_) -> false end))
     end || C <- ticksplit_window:call_classes()],
    ?assertError({longer_than_window, above_call_timeout, 8000, 675},
                 ticksplit_gen:call_duration(above_call_timeout, 5000, ?W)),
    ?assert(holds(ticksplit_gen:nemesis(?NODES, W20, [{above_call_timeout, 1000}]),
                  fun({call, ticksplit, heal_all, _}) -> true;
                     ({call, ticksplit, _, Args}) ->
                          #{duration_ms := D} = lists:last(Args),
                          D >= 1200 andalso D =< 1600
                  end)).

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
    %% every kind of call turns up: "never F" has a counterexample
    [?assertNot(holds(ticksplit_gen:nemesis(?NODES, ?W), fun(C) -> element(3, C) =/= F end))
     || F <- [split, isolate, one_way, pause, stress, heal_all]].

%% A stress's hogs are what stress/2 accepts, and shrink to the mildest: one per scheduler.
hogs_shrink_to_one_test() ->
    ?assert(holds(ticksplit_gen:hogs(), fun(H) -> is_integer(H) andalso H >= 1 andalso H =< 16 end)),
    ?assertEqual([1], counterexample(ticksplit_gen:hogs(), fun(_) -> false end)).

%% kill_node calls name a node of the cluster and a restart the API accepts; the restart shrinks
%% to the shortest of the below_window class.
kill_node_test() ->
    ?assert(holds(ticksplit_gen:kill_node(?NODES, ?W),
                  fun({call, ticksplit, kill_node, [N, #{restart_after_ms := D} = Opts]}) ->
                          lists:member(N, ?NODES) andalso is_integer(D) andalso D > 0 andalso
                              maps:keys(Opts) =:= [restart_after_ms]
                  end)),
    {Lo, _} = ticksplit_window:class_range(below_window, ?W),
    [{call, ticksplit, kill_node, [N, #{restart_after_ms := D}]}] =
        counterexample(ticksplit_gen:kill_node(?NODES, ?W), fun(_) -> false end),
    ?assertEqual({hd(?NODES), Lo}, {N, D}).

%% Lossy faults turn up, with a loss the API accepts; a loss shrinks to a total cut.
nemesis_loss_test() ->
    Lossy = fun({call, ticksplit, heal_all, _}) -> false;
               ({call, ticksplit, _, Args}) -> maps:is_key(loss, lists:last(Args))
            end,
    ?assertNot(holds(ticksplit_gen:nemesis(?NODES, ?W), fun(C) -> not Lossy(C) end)),
    ?assert(holds(ticksplit_gen:loss(), fun(L) -> ticksplit_loss:of_option(L) =/= error end)),
    ?assertEqual([1], counterexample(ticksplit_gen:loss(), fun(_) -> false end)).

nemesis_classes_test() ->
    ?assert(holds(ticksplit_gen:nemesis(?NODES, ?W, [below_window]),
                  fun({call, ticksplit, heal_all, _}) -> true;
                     ({call, ticksplit, _, Args}) ->
                          #{duration_ms := D} = lists:last(Args),
                          ticksplit_window:classify(D, ?W) =:= below_window
                  end)).

%% A lossy call carries a loss the API accepts (and none when total).
valid_call({call, ticksplit, _, [_ | _] = Args} = Call) ->
    valid_shape(Call) andalso valid_loss(lists:last(Args));
valid_call(_) ->
    false.

valid_loss(#{loss := L}) -> L =/= 1 andalso ticksplit_loss:of_option(L) =/= error;
valid_loss(_) -> true.

valid_shape({call, ticksplit, split, [Groups, #{duration_ms := D}]}) ->
    element(1, ticksplit_groups:drop_sets(Groups)) =:= ok andalso is_integer(D);
valid_shape({call, ticksplit, isolate, [N, #{duration_ms := D, nodes := Ns}]}) ->
    lists:member(N, ?NODES) andalso Ns =:= ?NODES andalso is_integer(D);
valid_shape({call, ticksplit, one_way, [F, T, #{duration_ms := D}]}) ->
    F =/= T andalso lists:member(F, ?NODES) andalso lists:member(T, ?NODES) andalso is_integer(D);
valid_shape({call, ticksplit, pause, [N, #{duration_ms := D} = Opts]}) ->
    %% nothing but the duration: pause/2 refuses loss, direction and nodes
    lists:member(N, ?NODES) andalso is_integer(D) andalso D > 0 andalso maps:keys(Opts) =:= [duration_ms];
valid_shape({call, ticksplit, stress, [N, #{duration_ms := D, hogs := H} = Opts]}) ->
    %% the duration and hogs: stress/2 refuses loss, direction and nodes
    lists:member(N, ?NODES) andalso is_integer(D) andalso D > 0 andalso H >= 1 andalso H =< 16
        andalso lists:sort(maps:keys(Opts)) =:= [duration_ms, hogs];
valid_shape({call, ticksplit, heal_all, [Ns]}) ->
    Ns =:= ?NODES;
valid_shape(_) ->
    false.

%%% proper_statem: faults shrink with the rest of a failing case

initial_state() -> #{}.
command(_) -> ticksplit_gen:nemesis(?NODES, ?W).
precondition(_, _) -> true.
next_state(S, _, _) -> S.
postcondition(_, _, _) -> true.

%% "No run ever holds a fault above the window" fails; PropEr shrinks the failing run to the one
%% fault that matters (PropEr 1.2's proper_statem removes commands; it does not shrink their
%% arguments, which the ?FORALL tests above cover).
statem_shrinks_faults_test() ->
    {AboveLo, _} = ticksplit_window:class_range(above_window, ?W),
    Above = fun({set, _, {call, ticksplit, F, Args}}) when F =/= heal_all ->
                    maps:get(duration_ms, lists:last(Args)) >= AboveLo;
               (_) -> false
            end,
    ?assertNot(holds(proper_statem:commands(?MODULE), fun(Cmds) -> length(Cmds) =< 1 end)),
    [Cmds] = counterexample(proper_statem:commands(?MODULE),
                            fun(Cmds) -> not lists:any(Above, Cmds) end),
    ?assertMatch([{set, {var, _}, {call, ticksplit, _, _}}], Cmds),
    ?assert(Above(hd(Cmds))).

%%% kill_process

-define(TARGETS, [{name, ts_worker}, {supervisor, ts_sup}]).

%% kill_process calls the API accepts (its own option check), on the given nodes and targets;
%% every target turns up; the restart window shrinks to its least, 10 ms.
kill_process_commands_test() ->
    Valid = fun({call, ticksplit, kill_process, [N, T, #{restart_window_ms := W} = O]}) ->
                    lists:member(N, ?NODES) andalso lists:member(T, ?TARGETS) andalso
                        W >= 10 andalso W =< 5000 andalso maps:keys(O) =:= [restart_window_ms];
               (_) -> false
            end,
    ?assert(holds(ticksplit_gen:kill_process(?NODES, ?TARGETS), Valid)),
    [?assertNot(holds(ticksplit_gen:kill_process(?NODES, ?TARGETS), fun(C) -> lists:nth(2, element(4, C)) =/= T end))
     || T <- ?TARGETS],
    [[{call, ticksplit, kill_process, [_, _, Shrunk]}]] =
        [counterexample(ticksplit_gen:kill_process(?NODES, ?TARGETS), fun(_) -> false end)],
    ?assertEqual(#{restart_window_ms => 10}, Shrunk).

%% nemesis/4 mixes kill_process calls into nemesis/3's.
nemesis_with_kills_test() ->
    Gen = ticksplit_gen:nemesis(?NODES, ?W, ticksplit_window:classes(), ?TARGETS),
    ?assert(holds(Gen, fun({call, ticksplit, kill_process, _}) -> true;
                          (C) -> valid_call(C)
                       end)),
    [?assertNot(holds(Gen, fun(C) -> element(3, C) =/= F end)) || F <- [kill_process, split, pause]].
