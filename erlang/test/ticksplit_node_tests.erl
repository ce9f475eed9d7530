%% Node names and default agents against the golden vectors the C++ side reads too.
-module(ticksplit_node_tests).
-include_lib("eunit/include/eunit.hrl").

golden_vectors_test() ->
    Rows = ticksplit_golden:rows("node_names.txt"),
    ?assert(length(Rows) >= 15),
    [begin
         ?assertEqual({Name, Valid =:= "valid"}, {Name, ticksplit_node:valid(Name)}),
         case Agent of
             "-" -> ?assertError({bad_node, _}, ticksplit_node:default_agent(Name));
             _ -> ?assertEqual(list_to_atom(Agent), ticksplit_node:default_agent(Name))
         end
     end || [Name, Valid, Agent] <- Rows].

spaces_and_non_names_test() ->
    ?assertNot(ticksplit_node:valid('app@h ost')),
    ?assertNot(ticksplit_node:valid(<<"app@h">>)),
    ?assertNot(ticksplit_node:valid(42)).
