#!/usr/bin/env escript
%% Writes the golden term vectors used by tests/unit/ei_decode_test.cpp and ei_encode_test.cpp: each file under
%% terms/ holds term_to_binary(Term) exactly as Erlang produced it. Run from this folder
%% (tests/data) after changing the list; commit the .bin files it writes.
main(_) ->
    Pid = list_to_pid("<0.42.7>"),
    Ref = list_to_ref("#Ref<0.1.2.3>"),
    Vectors = [
        {atom_ok, ok},
        {atom_utf8, 'héllo'},
        {atom_quoted, '$gen_call'},
        {int_zero, 0},
        {int_small, 255},
        {int_256, 256},
        {int_neg, -1},
        {int_max32, 2147483647},
        {int_min32, -2147483648},
        {int_2_31, 2147483648},
        {int_max64, 9223372036854775807},
        {int_min64, -9223372036854775808},
        {big_2_64, 18446744073709551616},
        {big_neg_2_100, -1267650600228229401496703205376},
        {big_2_2100, 1 bsl 2100},
        {float, 3.5},
        {binary_empty, <<>>},
        {binary_hello, <<"hello">>},
        {binary_bytes, <<0, 255, 1>>},
        {nil, []},
        {string, [1, 2, 3]},
        {list_mixed, [a, <<"b">>, 300]},
        {improper, [a | b]},
        {improper_long, [1, 2 | 3]},
        {tuple_empty, {}},
        {tuple_ok, {ok, 1}},
        {tuple_large, list_to_tuple(lists:seq(1, 300))},
        {map_empty, #{}},
        {map_small, #{a => 1, <<"k">> => [x]}},
        {pid, Pid},
        {ref, Ref},
        {port, list_to_port("#Port<0.5>")},
        {gen_call, {'$gen_call', {Pid, [alias | Ref]}, status}},
        {nested, {events, [#{seq => 1, type => nodedown, reason => net_tick_timeout}], 2}}
    ],
    ok = filelib:ensure_dir("terms/x"),
    [ok = file:write_file("terms/" ++ atom_to_list(Name) ++ ".bin", term_to_binary(T))
     || {Name, T} <- Vectors],
    io:format("wrote ~p vectors~n", [length(Vectors)]).
