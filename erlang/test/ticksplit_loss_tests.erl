%% The loss grammar against the golden vectors the C++ side reads too
%% (tests/data/golden/losses.txt).
-module(ticksplit_loss_tests).
-include_lib("eunit/include/eunit.hrl").

golden_vectors_test() ->
    Rows = ticksplit_golden:rows("losses.txt"),
    ?assert(length(Rows) >= 30),
    [begin
         {Got, Printed} = case ticksplit_loss:parse(Text) of
                              {ok, Ppm} -> {integer_to_list(Ppm), ticksplit_loss:text(Ppm)};
                              {error, {bad_loss, Text, Why}} -> {"error:" ++ atom_to_list(Why), "-"}
                          end,
         ?assertEqual({Text, Want, Print}, {Text, Got, Printed})
     end || [Text, Want, Print] <- Rows].

options_test() ->
    ?assertEqual({ok, 300000}, ticksplit_loss:of_option(0.3)),
    ?assertEqual({ok, 1000000}, ticksplit_loss:of_option(1)),
    ?assertEqual({ok, 1000000}, ticksplit_loss:of_option(1.0)),
    ?assertEqual({ok, 500000}, ticksplit_loss:of_option(<<"50%">>)),
    [?assertEqual(error, ticksplit_loss:of_option(Bad)) || Bad <- [0, 0.0, -0.5, 1.5, 2, 1.0e-7, half, "0%"]],
    ?assertEqual(0.25, ticksplit_loss:probability(250000)).
