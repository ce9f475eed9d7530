%% The JSON codec: one test per row of the mapping, escapes, unicode, round trips, and
%% malformed input refused with an error that says where.
-module(ticksplit_json_tests).
-include_lib("eunit/include/eunit.hrl").

enc(T) -> iolist_to_binary(ticksplit_json:encode(T)).
dec(B) -> ticksplit_json:decode(B).

%%% The mapping, row by row

integers_test() ->
    ?assertEqual(<<"0">>, enc(0)),
    ?assertEqual(<<"-42">>, enc(-42)),
    ?assertEqual(<<"123456789012345678901234567890">>, enc(123456789012345678901234567890)).

floats_test() ->
    ?assertEqual(<<"0.1">>, enc(0.1)),
    ?assertEqual(<<"-2.5">>, enc(-2.5)),
    ?assertEqual(<<"1.0e300">>, enc(1.0e300)),
    ?assertEqual(1.0e300, dec(enc(1.0e300))).

binaries_test() ->
    ?assertEqual(<<"\"hello\"">>, enc(<<"hello">>)),
    ?assertEqual(<<"\"\"">>, enc(<<>>)),
    ?assertEqual(<<"\"é\""/utf8>>, enc(<<"é"/utf8>>)).

not_utf8_test() ->
    ?assertError({not_utf8, <<255, 0>>}, enc(<<255, 0>>)),
    ?assertError({not_utf8, <<"é">>}, enc(#{k => <<"é">>})).   % latin-1, not UTF-8

booleans_test() ->
    ?assertEqual(<<"true">>, enc(true)),
    ?assertEqual(<<"false">>, enc(false)).

nulls_test() ->
    ?assertEqual(<<"[null,null,null]">>, enc([null, undefined, nil])).

other_atoms_test() ->
    ?assertEqual(<<"\"write\"">>, enc(write)),
    ?assertEqual(<<"\"app@10.0.0.1\"">>, enc('app@10.0.0.1')),
    ?assertEqual(<<"\"ü\""/utf8>>, enc('ü')).

lists_test() ->
    ?assertEqual(<<"[]">>, enc([])),
    ?assertEqual(<<"[1,\"a\",[true]]">>, enc([1, <<"a">>, [true]])),
    ?assertEqual(<<"[104,105]">>, enc("hi")).      % a charlist is a list of integers

tuples_test() ->
    ?assertEqual(<<"[1,2]">>, enc({1, 2})),
    ?assertEqual(<<"[]">>, enc({})),
    ?assertEqual(<<"[\"a\",[1,2]]">>, enc({a, {1, 2}})).

maps_test() ->
    ?assertEqual(<<"{}">>, enc(#{})),
    ?assertEqual(<<"{\"1\":\"int\",\"a\":\"atom\",\"b\":\"binary\"}">>,
                 enc(#{1 => int, a => atom, <<"b">> => binary})).

map_keys_in_byte_order_test() ->
    %% the same bytes whatever the map's internal order (large maps are hash-ordered)
    M = maps:from_list([{list_to_atom("k" ++ integer_to_list(I)), I} || I <- lists:seq(1, 40)]),
    Keys = [K || {K, _} <- lists:sort([{atom_to_binary(K), V} || {K, V} <- maps:to_list(M)])],
    ?assertEqual(Keys, [K || {K, _} <- ordered_members(enc(M))]).

bad_keys_test() ->
    ?assertError({bad_key, {1, 2}}, enc(#{{1, 2} => x})),
    ?assertError({bad_key, 1.5}, enc(#{1.5 => x})),
    ?assertError({duplicate_key, <<"a">>}, enc(#{a => 1, <<"a">> => 2})),
    ?assertError({duplicate_key, <<"1">>}, enc(#{1 => 1, <<"1">> => 2})).

unencodable_test() ->
    ?assertError({unencodable, _}, enc(self())),
    ?assertError({unencodable, _}, enc(make_ref())),
    ?assertError({unencodable, _}, enc(fun() -> ok end)),
    ?assertError({unencodable, [1 | 2]}, enc([1 | 2])),
    ?assertError({unencodable, <<1:3>>}, enc(<<1:3>>)),
    ?assertError({unencodable, _}, enc(#{a => [self()]})).

%%% Escapes and unicode

escapes_test() ->
    ?assertEqual(<<"\"a\\\"b\\\\c\\n\\r\\t\\b\\f\"">>, enc(<<"a\"b\\c\n\r\t\b\f">>)),
    ?assertEqual(<<"\"\\u0000\\u001f\\u0001\"">>, enc(<<0, 31, 1>>)),
    ?assertEqual(<<"\"/\x7f\"">>, enc(<<"/\x7f">>)).    % neither needs escaping

every_control_character_round_trips_test() ->
    B = list_to_binary(lists:seq(0, 127)),
    Json = enc(B),
    ?assertEqual(nomatch, re:run(Json, "[\\x00-\\x1f]")),
    ?assertEqual(B, dec(Json)).

decode_escapes_test() ->
    ?assertEqual(<<"\"\\/\b\f\n\r\t">>, dec(<<"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"">>)),
    ?assertEqual(<<"é"/utf8>>, dec(<<"\"\\u00e9\"">>)),
    ?assertEqual(<<"é"/utf8>>, dec(<<"\"\\u00E9\"">>)),
    ?assertEqual(<<"€"/utf8>>, dec(<<"\"\\u20ac\"">>)).

surrogate_pairs_test() ->
    ?assertEqual(<<16#1F600/utf8>>, dec(<<"\"\\ud83d\\ude00\"">>)),
    ?assertEqual(<<"a", 16#10FFFF/utf8, "b">>, dec(<<"\"a\\udbff\\udfffb\"">>)).

raw_utf8_test() ->
    S = <<"κόσμε 日本 "/utf8, 16#1F600/utf8>>,
    ?assertEqual(S, dec(enc(S))),
    ?assertEqual(enc(S), <<$", S/binary, $">>).     % written as UTF-8, not escaped

%%% Decoding

decode_values_test() ->
    ?assertEqual(#{<<"a">> => [1, -2.5, <<"x">>, true, false, null], <<"b">> => #{}},
                 dec(<<" {\"a\" : [ 1 , -2.5 , \"x\" , true , false , null ] ,\n\t\"b\":{} }\r\n">>)),
    ?assertEqual([], dec(<<"[]">>)),
    ?assertEqual(42, dec(<<"42">>)),
    ?assertEqual(<<"top">>, dec(<<"\"top\"">>)),
    ?assertEqual(null, dec(<<"null">>)).

decode_numbers_test() ->
    ?assertEqual(0, dec(<<"0">>)),
    ?assertEqual(0, dec(<<"-0">>)),
    ?assert(is_integer(dec(<<"12345678901234567890123">>))),
    ?assertEqual(100.0, dec(<<"1e2">>)),
    ?assertEqual(150.0, dec(<<"1.5E+2">>)),
    ?assertEqual(0.015, dec(<<"1.5e-2">>)),
    ?assertEqual(-0.5, dec(<<"-0.5">>)).

duplicate_keys_last_wins_test() ->
    ?assertEqual(#{<<"a">> => 2}, dec(<<"{\"a\":1,\"a\":2}">>)).

round_trip_test() ->
    Terms = [#{<<"kind">> => <<"op">>, <<"value">> => [1, 2], <<"n">> => null},
             [[], [[]], #{}, #{<<"x">> => #{<<"y">> => [true, false]}}],
             <<"line\nbreak \"quoted\" \\ back">>,
             -9007199254740993, 3.141592653589793, 1.0e-300],
    [?assertEqual(T, dec(enc(T))) || T <- Terms].

round_trip_normalizes_test() ->
    ?assertEqual(#{<<"f">> => <<"cas">>, <<"value">> => [1, 2], <<"key">> => null},
                 dec(enc(#{f => cas, value => {1, 2}, key => undefined}))).

%%% Malformed input

malformed_test_() ->
    Cases = [{<<>>, unexpected_end},
             {<<"  ">>, unexpected_end},
             {<<"[1,]">>, trailing_comma},
             {<<"{\"a\":1,}">>, expected_key},
             {<<"{,}">>, expected_key},
             {<<"{\"a\" 1}">>, expected_colon},
             {<<"{\"a\":1 \"b\":2}">>, expected_comma_or_brace},
             {<<"[1 2]">>, expected_comma_or_bracket},
             {<<"{1:2}">>, expected_key},
             {<<"[1">>, unexpected_end},
             {<<"{\"a\"">>, unexpected_end},
             {<<"\"abc">>, unterminated_string},
             {<<"\"a\nb\"">>, control_character_in_string},
             {<<"\"\\x\"">>, bad_escape},
             {<<"\"\\u12\"">>, bad_escape},
             {<<"\"\\u12g4\"">>, bad_escape},
             {<<"\"\\ud800\"">>, lone_surrogate},
             {<<"\"\\ud800\\u0041\"">>, lone_surrogate},
             {<<"\"\\udc00\"">>, lone_surrogate},
             {<<"\"", 255, "\"">>, invalid_utf8},
             {<<"\"", 16#ED, 16#A0, 16#80, "\"">>, invalid_utf8},    % a surrogate in UTF-8
             {<<"01">>, trailing_text},
             {<<"1.">>, bad_number},
             {<<".5">>, unexpected_character},
             {<<"-">>, bad_number},
             {<<"1e">>, bad_number},
             {<<"+1">>, unexpected_character},
             {<<"1e400">>, number_out_of_range},
             {<<"tru">>, unexpected_character},
             {<<"nul">>, unexpected_character},
             {<<"NaN">>, unexpected_character},
             {<<"[] []">>, trailing_text},
             {<<"{\"a\":1}x">>, trailing_text}],
    [{binary_to_list(In), ?_assertError({bad_json, _, What}, dec(In))} || {In, What} <- Cases].

error_offset_test() ->
    ?assertError({bad_json, 6, expected_comma_or_bracket}, dec(<<"[1, 2 3]">>)),
    ?assertError({bad_json, 0, {not_a_binary, "[]"}}, dec("[]")).

%% Truncating a valid text anywhere gives an error, never a crash of another kind.
every_truncation_is_refused_test() ->
    Json = enc(#{a => [1, 2.5, <<"x\"y", 16#1F600/utf8>>, #{b => null}], c => true}),
    [?assertError({bad_json, _, _}, dec(binary_part(Json, 0, N))) || N <- lists:seq(0, byte_size(Json) - 1)].

%%% Helpers

%% The members of an encoded object, in the order they were written.
ordered_members(Json) ->
    {match, Ms} = re:run(Json, "\"(k[0-9]+)\":([0-9]+)", [global, {capture, all_but_first, binary}]),
    [{K, binary_to_integer(V)} || [K, V] <- Ms].
