%% @doc Loss as people write it, the grammar of ticksplit-ctl's schedules (common/loss.hpp),
%% checked against the same golden vectors (tests/data/golden/losses.txt):
%%
%% a percentage (`"30%"', `"0.5%"', up to 4 decimals) or a probability (`"0.3"', `"1"', up
%% to 6 decimals), above 0 and at most 100%. Decimal and exact: the result is in parts per
%% million. A fault's `loss' option also takes a float probability (`0.3'), rounded to the
%% nearest ppm, as the agent does.
-module(ticksplit_loss).

-export([parse/1, of_option/1, probability/1, text/1]).
-export_type([ppm/0, why/0]).

-type ppm() :: 1..1000000.
-type why() :: syntax | zero | above_one.

-define(TOTAL, 1000000).
-define(MAX_DIGITS, 9).

%% @doc Parses `Text' (a string or binary).
-spec parse(string() | binary()) -> {ok, ppm()} | {error, {bad_loss, string(), why()}}.
parse(Text) when is_binary(Text) -> parse(unicode:characters_to_list(Text));
parse(Text) when is_list(Text) ->
    {Number, Decimals} = case lists:reverse(Text) of
                             [$% | R] -> {lists:reverse(R), 4};
                             _ -> {Text, 6}
                         end,
    case units(Number, Decimals) of
        {ok, 0} -> {error, {bad_loss, Text, zero}};
        {ok, U} when U > ?TOTAL -> {error, {bad_loss, Text, above_one}};
        {ok, U} -> {ok, U};
        error -> {error, {bad_loss, Text, syntax}}
    end;
parse(Other) -> {error, {bad_loss, Other, syntax}}.

%% @doc A fault's `loss' option: a float or integer probability in (0, 1], or a text for
%% parse/1.
-spec of_option(term()) -> {ok, ppm()} | error.
of_option(1) -> {ok, ?TOTAL};
of_option(P) when is_float(P), P > 0.0, P =< 1.0 ->
    case round(P * ?TOTAL) of
        0 -> error;
        Ppm -> {ok, Ppm}
    end;
of_option(T) when is_list(T); is_binary(T) ->
    case parse(T) of
        {ok, Ppm} -> {ok, Ppm};
        _ -> error
    end;
of_option(_) -> error.

%% @doc What the agent's protocol carries: P = ppm / 10^6.
-spec probability(ppm()) -> float().
probability(Ppm) -> Ppm / ?TOTAL.

%% @doc `"30%"', `"0.5%"': the shortest exact percentage.
-spec text(ppm()) -> string().
text(Ppm) ->
    Whole = integer_to_list(Ppm div 10000),
    case Ppm rem 10000 of
        0 -> Whole ++ "%";
        F -> Whole ++ "." ++ string:trim(string:right(integer_to_list(F), 4, $0), trailing, "0") ++ "%"
    end.

%% The number in units of 10^-Decimals (a ppm either way), or error.
units(Text, Decimals) ->
    {Zeros, Significant} = lists:splitwith(fun(C) -> C =:= $0 end, Text),
    {Whole, Rest} = lists:splitwith(fun is_digit/1, Significant),
    Fraction = case Rest of
                   [] -> {ok, []};
                   [$. | F = [_ | _]] -> case lists:all(fun is_digit/1, F) of
                                             true -> {ok, F};
                                             false -> error
                                         end;
                   _ -> error
               end,
    case Fraction of
        _ when Zeros =:= [], Whole =:= [] -> error;
        _ when length(Whole) > ?MAX_DIGITS -> error;
        {ok, F2} when length(F2) =< Decimals ->
            Padded = F2 ++ lists:duplicate(Decimals - length(F2), $0),
            {ok, list_to_integer("0" ++ Whole ++ Padded)};
        _ -> error
    end.

is_digit(C) -> C >= $0 andalso C =< $9.
