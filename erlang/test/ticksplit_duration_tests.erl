%% The duration grammar against the golden vectors the C++ side reads too
%% (tests/data/golden/durations.txt).
-module(ticksplit_duration_tests).
-include_lib("eunit/include/eunit.hrl").

golden_vectors_test() ->
    Rows = ticksplit_golden:rows("durations.txt"),
    ?assert(length(Rows) >= 40),
    [begin
         Where = case W of
                     "flag" -> flag;
                     "T=" ++ Ms -> list_to_integer(Ms)
                 end,
         Got = case ticksplit_duration:parse_ms(Text, Where) of
                   {ok, Ms2} -> integer_to_list(Ms2);
                   {error, {bad_duration, Text, Why}} -> "error:" ++ atom_to_list(Why)
               end,
         ?assertEqual({Text, W, Want}, {Text, W, Got})
     end || [Text, W, Want] <- Rows].

binaries_and_ticks_test() ->
    ?assertEqual({ok, 2900}, ticksplit_duration:parse_ms(<<"2.9s">>, flag)),
    {ok, D} = ticksplit_duration:parse("1.3T", true),
    ?assertEqual({error, {bad_duration, "1.3T", no_ticktime}}, ticksplit_duration:to_ms(D, undefined)),
    ?assertEqual({ok, 2600}, ticksplit_duration:to_ms(D, 2000)),
    ?assertEqual({error, {bad_duration, 42, syntax}}, ticksplit_duration:parse(42, true)).
