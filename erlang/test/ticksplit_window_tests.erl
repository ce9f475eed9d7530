%% Duration classes around the tick window (T = 2 s, I = 4: window {1500, 2500}).
-module(ticksplit_window_tests).
-include_lib("eunit/include/eunit.hrl").

-define(W, {1500, 2500}).

class_ranges_test() ->
    ?assertEqual({200, 675}, ticksplit_window:class_range(below_window, ?W)),
    ?assertEqual({1500, 2500}, ticksplit_window:class_range(in_window, ?W)),
    ?assertEqual({3000, 4000}, ticksplit_window:class_range(above_window, ?W)).

%% T = 60 s, I = 4 (OTP's defaults): window {45000, 75000}.
default_ticktime_test() ->
    ?assertEqual({6000, 20250}, ticksplit_window:class_range(below_window, {45000, 75000})),
    ?assertEqual({90000, 120000}, ticksplit_window:class_range(above_window, {45000, 75000})).

%% The classes do not overlap and come in order, for any window an agent can report.
classes_ordered_test() ->
    [begin
         {_, BHi} = ticksplit_window:class_range(below_window, W),
         {ILo, IHi} = ticksplit_window:class_range(in_window, W),
         {ALo, _} = ticksplit_window:class_range(above_window, W),
         ?assert(BHi < ILo),
         ?assert(IHi < ALo)
     end || W <- [{3, 5}, {750, 1250}, {1500, 2500}, {45000, 75000}]].

classify_test() ->
    ?assertEqual(below_window, ticksplit_window:classify(300, ?W)),
    ?assertEqual(below_window, ticksplit_window:classify(1499, ?W)),
    ?assertEqual(in_window, ticksplit_window:classify(1500, ?W)),
    ?assertEqual(in_window, ticksplit_window:classify(2500, ?W)),
    ?assertEqual(above_window, ticksplit_window:classify(2501, ?W)).

pick_stays_in_class_test() ->
    [begin
         {Lo, Hi} = ticksplit_window:class_range(C, ?W),
         Picks = [ticksplit_window:pick(C, ?W) || _ <- lists:seq(1, 500)],
         ?assert(lists:all(fun(P) -> P >= Lo andalso P =< Hi end, Picks)),
         ?assertEqual(C, ticksplit_window:classify(lists:max(Picks), ?W)),
         ?assert(length(lists:usort(Picks)) > 1)   % random, not a constant
     end || C <- ticksplit_window:classes()].

%% The rules ticksplit-ctl shares (tests/unit/tick_window_test.cpp reads the same file).
golden_vectors_test() ->
    Rows = ticksplit_golden:rows("window_classes.txt"),
    N = fun list_to_integer/1,
    Ranges = [begin
                  W = ticksplit_window:detection_window(N(T), N(I)),
                  ?assertEqual({T, I, {N(Min), N(Max)}}, {T, I, W}),
                  ?assertEqual({T, I, {N(BLo), N(BHi)}}, {T, I, ticksplit_window:class_range(below_window, W)}),
                  ?assertEqual({T, I, {N(ILo), N(IHi)}}, {T, I, ticksplit_window:class_range(in_window, W)}),
                  ?assertEqual({T, I, {N(ALo), N(AHi)}}, {T, I, ticksplit_window:class_range(above_window, W)})
              end || ["range", T, I, Min, Max, BLo, BHi, ILo, IHi, ALo, AHi] <- Rows],
    Classified = [?assertEqual({T, I, Ms, list_to_atom(C)},
                               {T, I, Ms, ticksplit_window:classify(N(Ms), ticksplit_window:detection_window(N(T), N(I)))})
                  || ["classify", T, I, Ms, C] <- Rows],
    ?assertEqual({28, 140}, {length(Ranges), length(Classified)}).

%% The call-timeout classes ticksplit-ctl shares (tests/unit/tick_window_test.cpp reads the
%% same file).
call_class_golden_vectors_test() ->
    N = fun list_to_integer/1,
    Results = [begin
                   Got = ticksplit_window:call_class_range(list_to_atom(Class), N(C),
                                                           ticksplit_window:detection_window(N(T), N(I))),
                   Want = case Rest of
                              ["out_of_range"] -> {error, {call_timeout_out_of_range, N(C), {1000, 3600000}}};
                              ["too_long", Hi, Limit] -> {error, {longer_than_window, list_to_atom(Class), N(Hi), N(Limit)}};
                              [Lo, Hi] -> {ok, {N(Lo), N(Hi)}}
                          end,
                   ?assertEqual({T, I, C, Class, Want}, {T, I, C, Class, Got}),
                   element(1, Got)
               end || ["call", T, I, C, Class | Rest] <- ticksplit_golden:rows("call_classes.txt")],
    ?assertEqual(540, length(Results)),
    ?assert(length([E || error = E <- Results]) > 100),
    ?assert(length([O || ok = O <- Results]) > 100).

%% T = 20 s: a 1 s call timeout fits every class; T = 2 s fits none of gen_server's default.
call_class_pick_test() ->
    W20 = ticksplit_window:detection_window(20000, 4),
    [begin
         {ok, {Lo, Hi}} = ticksplit_window:call_class_range(C, 1000, W20),
         Picks = [begin {ok, P} = ticksplit_window:pick_call(C, 1000, W20), P end || _ <- lists:seq(1, 300)],
         ?assert(lists:all(fun(P) -> P >= Lo andalso P =< Hi end, Picks)),
         ?assert(length(lists:usort(Picks)) > 1)
     end || C <- ticksplit_window:call_classes()],
    ?assertEqual({error, {longer_than_window, below_call_timeout, 2250, 675}},
                 ticksplit_window:pick_call(below_call_timeout, 5000, ?W)).

bad_input_test() ->
    ?assertError({unknown_class, sideways}, ticksplit_window:class_range(sideways, ?W)),
    ?assertError({bad_window, {2500, 1500}}, ticksplit_window:class_range(in_window, {2500, 1500})),
    ?assertError({bad_window, nope}, ticksplit_window:pick(in_window, nope)).
