%% @doc JSON for histories and reports (RFC 8259), since OTP 25 has no `json' module.
%%
%% encode/1 maps Erlang terms to JSON as follows; anything else is refused:
%% <table>
%%  <tr><th>Erlang</th><th>JSON</th></tr>
%%  <tr><td>integer, float</td><td>number (floats in their shortest exact form)</td></tr>
%%  <tr><td>binary</td><td>string; it must be UTF-8, else `{not_utf8, B}'</td></tr>
%%  <tr><td>`true', `false'</td><td>`true', `false'</td></tr>
%%  <tr><td>`null', `undefined', `nil'</td><td>`null'</td></tr>
%%  <tr><td>any other atom</td><td>string: `app@10.0.0.1' becomes `"app@10.0.0.1"'</td></tr>
%%  <tr><td>proper list</td><td>array; so a charlist is an array of integers: use binaries
%%      for strings</td></tr>
%%  <tr><td>tuple</td><td>array: a cas's `{From, To}' becomes `[From, To]'</td></tr>
%%  <tr><td>map</td><td>object; keys may be binaries, atoms or integers and become strings
%%      (other keys: `{bad_key, K}'; two keys with the same text: `{duplicate_key, Text}').
%%      Members are written in the byte order of their keys, as ticksplit-ctl writes its
%%      history, so the same map always gives the same bytes.</td></tr>
%% </table>
%% Pids, references, ports, funs, improper lists and bitstrings are refused with
%% `{unencodable, T}'. A refusal raises `error(Reason)' (Reason as above) before anything is
%% returned. Strings escape `"', `\' and the control characters (`\n', `\t', ... or `\u00XX');
%% everything else is written as UTF-8.
%%
%% decode/1 reads one JSON text: objects become maps with binary keys (a repeated key: the
%% last wins), arrays lists, strings binaries (`\uXXXX' escapes and surrogate pairs decoded),
%% numbers integers when they have neither fraction nor exponent and floats otherwise,
%% `null' the atom `null', `true'/`false' booleans. Malformed input (bad syntax, invalid
%% UTF-8, a lone surrogate, a number out of the float range, trailing text) raises
%% `error({bad_json, Offset, What})' with the byte offset where reading stopped.
-module(ticksplit_json).

-export([encode/1, decode/1]).
-export_type([json/0]).

-type json() :: null | boolean() | number() | binary() | [json()] | #{binary() => json()}.
%% What decode/1 returns.

%%% Encoding

%% @doc The JSON text of a term, per the table above; raises `error(Reason)' for a term it
%% cannot represent.
-spec encode(term()) -> iodata().
encode(true) -> <<"true">>;
encode(false) -> <<"false">>;
encode(null) -> <<"null">>;
encode(undefined) -> <<"null">>;
encode(nil) -> <<"null">>;
encode(I) when is_integer(I) -> integer_to_binary(I);
encode(F) when is_float(F) -> float_to_binary(F, [short]);
encode(A) when is_atom(A) -> string(atom_to_binary(A, utf8));
encode(B) when is_binary(B) -> string(B);
encode(L) when is_list(L) -> array(L, L);
encode(T) when is_tuple(T) -> array(tuple_to_list(T), T);
encode(M) when is_map(M) -> object(M);
encode(T) -> error({unencodable, T}).

array([], _) -> <<"[]">>;
array(L, Whole) -> [$[, elements(L, Whole), $]].

elements([X], _) -> [encode(X)];
elements([X | Rest], Whole) when is_list(Rest) -> [encode(X), $, | elements(Rest, Whole)];
elements(_, Whole) -> error({unencodable, Whole}).    % improper list

object(M) ->
    Members = lists:sort([{key(K), V} || {K, V} <- maps:to_list(M)]),
    check_unique(Members),
    [${, lists:join($,, [[string(K), $:, encode(V)] || {K, V} <- Members]), $}].

key(K) when is_binary(K) -> K;
key(K) when is_atom(K) -> atom_to_binary(K, utf8);
key(K) when is_integer(K) -> integer_to_binary(K);
key(K) -> error({bad_key, K}).

check_unique([{K, _}, {K, _} | _]) -> error({duplicate_key, K});
check_unique([_ | Rest]) -> check_unique(Rest);
check_unique([]) -> ok.

string(B) ->
    case unicode:characters_to_binary(B, utf8, utf8) of
        B -> [$", escape(B, 0, 0, B), $"];
        _ -> error({not_utf8, B})
    end.

%% Copies runs of plain bytes as sub-binaries; escapes the rest.
escape(Whole, Start, Len, Rest0) ->
    case Rest0 of
        <<>> ->
            [binary_part(Whole, Start, Len)];
        <<C, Rest/binary>> when C < 16#20; C =:= $"; C =:= $\\ ->
            [binary_part(Whole, Start, Len), escaped(C) | escape(Whole, Start + Len + 1, 0, Rest)];
        <<_, Rest/binary>> ->
            escape(Whole, Start, Len + 1, Rest)
    end.

escaped($") -> <<"\\\"">>;
escaped($\\) -> <<"\\\\">>;
escaped($\n) -> <<"\\n">>;
escaped($\r) -> <<"\\r">>;
escaped($\t) -> <<"\\t">>;
escaped($\b) -> <<"\\b">>;
escaped($\f) -> <<"\\f">>;
escaped(C) -> io_lib:format("\\u~4.16.0b", [C]).

%%% Decoding

%% @doc The term of a JSON text (see the module doc); raises `error({bad_json, Offset, What})'
%% for malformed input.
-spec decode(binary()) -> json().
decode(Bin) when is_binary(Bin) ->
    {Value, Rest} = value(skip_ws(Bin), Bin),
    case skip_ws(Rest) of
        <<>> -> Value;
        Trailing -> bad(Bin, Trailing, trailing_text)
    end;
decode(Other) ->
    error({bad_json, 0, {not_a_binary, Other}}).

value(<<${, Rest/binary>>, All) -> object_members(skip_ws(Rest), All, #{});
value(<<$[, Rest/binary>>, All) -> array_elements(skip_ws(Rest), All, []);
value(<<$", Rest/binary>>, All) -> string_chars(Rest, All, []);
value(<<"true", Rest/binary>>, _) -> {true, Rest};
value(<<"false", Rest/binary>>, _) -> {false, Rest};
value(<<"null", Rest/binary>>, _) -> {null, Rest};
value(<<C, _/binary>> = Bin, All) when C =:= $-; C >= $0, C =< $9 -> number(Bin, All);
value(<<>>, All) -> bad(All, <<>>, unexpected_end);
value(Bin, All) -> bad(All, Bin, unexpected_character).

object_members(<<$}, Rest/binary>>, _, Acc) when map_size(Acc) =:= 0 -> {Acc, Rest};
object_members(<<$", Rest/binary>>, All, Acc) ->
    {Key, AfterKey} = string_chars(Rest, All, []),
    case skip_ws(AfterKey) of
        <<$:, AfterColon/binary>> ->
            {Value, AfterValue} = value(skip_ws(AfterColon), All),
            Acc1 = Acc#{Key => Value},
            case skip_ws(AfterValue) of
                <<$,, More/binary>> -> object_members(skip_ws(More), All, Acc1, member);
                <<$}, More/binary>> -> {Acc1, More};
                Other -> bad(All, Other, expected_comma_or_brace)
            end;
        Other ->
            bad(All, Other, expected_colon)
    end;
object_members(Other, All, _) ->
    bad(All, Other, expected_key).

%% After a comma a member must follow (no trailing comma, and `{,}' is not an empty object).
object_members(<<$", _/binary>> = Bin, All, Acc, member) -> object_members(Bin, All, Acc);
object_members(Other, All, _, member) -> bad(All, Other, expected_key).

array_elements(<<$], Rest/binary>>, _, []) -> {[], Rest};
array_elements(Bin, All, Acc) ->
    {Value, AfterValue} = value(Bin, All),
    case skip_ws(AfterValue) of
        <<$,, More/binary>> -> array_elements_more(skip_ws(More), All, [Value | Acc]);
        <<$], More/binary>> -> {lists:reverse([Value | Acc]), More};
        Other -> bad(All, Other, expected_comma_or_bracket)
    end.

array_elements_more(<<$], _/binary>> = Bin, All, _) -> bad(All, Bin, trailing_comma);
array_elements_more(Bin, All, Acc) -> array_elements(Bin, All, Acc).

string_chars(<<$", Rest/binary>>, _, Acc) ->
    {iolist_to_binary(lists:reverse(Acc)), Rest};
string_chars(<<$\\, Rest/binary>> = Bin, All, Acc) ->
    case Rest of
        <<$", More/binary>> -> string_chars(More, All, [$" | Acc]);
        <<$\\, More/binary>> -> string_chars(More, All, [$\\ | Acc]);
        <<$/, More/binary>> -> string_chars(More, All, [$/ | Acc]);
        <<$b, More/binary>> -> string_chars(More, All, [$\b | Acc]);
        <<$f, More/binary>> -> string_chars(More, All, [$\f | Acc]);
        <<$n, More/binary>> -> string_chars(More, All, [$\n | Acc]);
        <<$r, More/binary>> -> string_chars(More, All, [$\r | Acc]);
        <<$t, More/binary>> -> string_chars(More, All, [$\t | Acc]);
        <<$u, _/binary>> -> unicode_escape(Bin, All, Acc);
        _ -> bad(All, Bin, bad_escape)
    end;
string_chars(<<C, _/binary>> = Bin, All, _) when C < 16#20 ->
    bad(All, Bin, control_character_in_string);
string_chars(<<C, Rest/binary>>, All, Acc) when C < 16#80 ->
    string_chars(Rest, All, [C | Acc]);
string_chars(<<C/utf8, Rest/binary>>, All, Acc) ->
    string_chars(Rest, All, [<<C/utf8>> | Acc]);
string_chars(<<>>, All, _) ->
    bad(All, <<>>, unterminated_string);
string_chars(Bin, All, _) ->
    bad(All, Bin, invalid_utf8).

%% \uXXXX, and \uD8xx\uDCxx pairs for characters beyond the BMP.
unicode_escape(<<"\\u", H:4/binary, Rest/binary>> = Bin, All, Acc) ->
    case hex(H) of
        High when High >= 16#D800, High =< 16#DBFF ->
            case Rest of
                <<"\\u", L:4/binary, More/binary>> ->
                    case hex(L) of
                        Low when Low >= 16#DC00, Low =< 16#DFFF ->
                            C = 16#10000 + ((High - 16#D800) bsl 10) + (Low - 16#DC00),
                            string_chars(More, All, [<<C/utf8>> | Acc]);
                        _ -> bad(All, Bin, lone_surrogate)
                    end;
                _ -> bad(All, Bin, lone_surrogate)
            end;
        Low when Low >= 16#DC00, Low =< 16#DFFF -> bad(All, Bin, lone_surrogate);
        C when is_integer(C) -> string_chars(Rest, All, [<<C/utf8>> | Acc]);
        error -> bad(All, Bin, bad_escape)
    end;
unicode_escape(Bin, All, _) ->
    bad(All, Bin, bad_escape).

hex(H) ->
    case lists:all(fun(C) -> lists:member(C, "0123456789abcdefABCDEF") end, binary_to_list(H)) of
        true -> binary_to_integer(H, 16);
        false -> error
    end.

%% -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
number(Bin, All) ->
    {Sign, R0} = case Bin of
                     <<$-, AfterSign/binary>> -> {<<"-">>, AfterSign};
                     _ -> {<<>>, Bin}
                 end,
    {Int, R1} = case R0 of
                    <<$0, AfterZero/binary>> -> {<<"0">>, AfterZero};
                    <<C, _/binary>> when C >= $1, C =< $9 -> digits(R0);
                    _ -> bad(All, R0, bad_number)
                end,
    {Frac, R2} = case R1 of
                     <<$., AfterDot/binary>> -> nonempty_digits(AfterDot, All);
                     _ -> {<<>>, R1}
                 end,
    {Exp, R3} = case R2 of
                    <<E, AfterE/binary>> when E =:= $e; E =:= $E -> exponent(AfterE, All);
                    _ -> {<<>>, R2}
                end,
    case {Frac, Exp} of
        {<<>>, <<>>} ->
            {binary_to_integer(<<Sign/binary, Int/binary>>), R3};
        _ ->
            F = case Frac of <<>> -> <<"0">>; _ -> Frac end,
            Text = <<Sign/binary, Int/binary, $., F/binary, Exp/binary>>,
            try {binary_to_float(Text), R3}
            catch error:badarg -> bad(All, Bin, number_out_of_range)
            end
    end.

exponent(R, All) ->
    {S, R1} = case R of
                  <<C, More/binary>> when C =:= $+; C =:= $- -> {<<C>>, More};
                  _ -> {<<>>, R}
              end,
    {D, R2} = nonempty_digits(R1, All),
    {<<$e, S/binary, D/binary>>, R2}.

nonempty_digits(<<C, _/binary>> = R, _) when C >= $0, C =< $9 -> digits(R);
nonempty_digits(R, All) -> bad(All, R, bad_number).

digits(Bin) -> digits(Bin, 0).
digits(Bin, N) ->
    case Bin of
        <<_:N/binary, C, _/binary>> when C >= $0, C =< $9 -> digits(Bin, N + 1);
        <<D:N/binary, Rest/binary>> -> {D, Rest}
    end.

skip_ws(<<C, Rest/binary>>) when C =:= $\s; C =:= $\t; C =:= $\n; C =:= $\r -> skip_ws(Rest);
skip_ws(Bin) -> Bin.

-spec bad(binary(), binary(), atom()) -> no_return().
bad(All, <<>>, What) when What =:= expected_key; What =:= expected_colon;
                          What =:= expected_comma_or_brace; What =:= expected_comma_or_bracket ->
    bad(All, <<>>, unexpected_end);
bad(All, Rest, What) ->
    error({bad_json, byte_size(All) - byte_size(Rest), What}).
