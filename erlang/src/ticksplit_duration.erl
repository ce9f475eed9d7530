%% @doc Durations as people write them, the grammar of ticksplit-ctl's schedules and the
%% agent's flags (common/duration.hpp), checked against the same golden vectors
%% (tests/data/golden/durations.txt):
%%
%% a positive decimal number (digits, optionally `.' and more digits; no sign, no exponent)
%% followed by a unit: `ms', `s', `m', `h', or `T' (net_ticktime) where T is known.
%% `"250ms"', `"2.9s"', `"1.5m"', `"0.3T"'. The value is computed exactly (integers only) and
%% rounded to whole milliseconds, half up; a duration that rounds to 0 ms is refused, and so is
%% one longer than a year.
-module(ticksplit_duration).

-export([parse/2, to_ms/2, parse_ms/2]).
-export_type([duration/0, why/0]).

-opaque duration() :: {Whole :: non_neg_integer(), Fraction :: non_neg_integer(),
                       FractionDigits :: 0..9, unit(), Text :: string()}.
-type unit() :: ms | s | m | h | ticks.
-type why() :: syntax | zero | too_large | no_ticktime.

-define(MAX_DIGITS, 9).
-define(MAX_MS, 366 * 24 * 3600 * 1000).
-define(MAX_TICKTIME_MS, 24 * 3600 * 1000).

%% @doc Parses `Text' (a string or binary); `TicksAllowed' says whether `T' may be the unit.
-spec parse(string() | binary(), boolean()) -> {ok, duration()} | {error, {bad_duration, string(), why()}}.
parse(Text, TicksAllowed) when is_binary(Text) ->
    parse(unicode:characters_to_list(Text), TicksAllowed);
parse(Text, TicksAllowed) when is_list(Text) ->
    %% Leading zeros carry no value, so they do not count toward the whole part's digits.
    {Zeros, Significant} = lists:splitwith(fun(C) -> C =:= $0 end, Text),
    case digits(Significant) of
        {_, WholeDigits, _} when WholeDigits > ?MAX_DIGITS -> bad(Text, too_large);
        {_, 0, _} when Zeros =:= [] -> bad(Text, syntax);
        {Whole, _, Rest} ->
            case fraction(Rest) of
                {ok, Fraction, FDigits, UnitText} ->
                    case unit(UnitText, TicksAllowed) of
                        {ok, Unit} -> {ok, {Whole, Fraction, FDigits, Unit, Text}};
                        error -> bad(Text, syntax)
                    end;
                error ->
                    bad(Text, syntax)
            end
    end;
parse(Text, _) ->
    {error, {bad_duration, Text, syntax}}.

%% @doc In whole milliseconds; `TicktimeMs' is T (needed for the unit T), or `undefined'.
-spec to_ms(duration(), pos_integer() | undefined) -> {ok, pos_integer()} | {error, {bad_duration, string(), why()}}.
to_ms({_, _, _, ticks, Text}, T) when not is_integer(T); T =< 0; T > ?MAX_TICKTIME_MS ->
    bad(Text, no_ticktime);
to_ms({Whole, Fraction, FDigits, Unit, Text}, T) ->
    Scale = scale(Unit, T),
    Den = pow10(FDigits),
    Ms = Whole * Scale + (Fraction * Scale * 2 + Den) div (2 * Den),   % half up
    if
        Ms > ?MAX_MS -> bad(Text, too_large);
        Ms =< 0 -> bad(Text, zero);
        true -> {ok, Ms}
    end.

%% @doc parse/2 then to_ms/2: `Where' is `flag' (no T) or T in milliseconds.
-spec parse_ms(string() | binary(), flag | pos_integer()) -> {ok, pos_integer()} | {error, {bad_duration, string(), why()}}.
parse_ms(Text, flag) ->
    case parse(Text, false) of
        {ok, D} -> to_ms(D, undefined);
        Error -> Error
    end;
parse_ms(Text, T) ->
    case parse(Text, true) of
        {ok, D} -> to_ms(D, T);
        Error -> Error
    end.

%%% Internal

digits(S) -> digits(S, 0, 0).
digits([C | Rest], N, Count) when C >= $0, C =< $9 -> digits(Rest, N * 10 + (C - $0), Count + 1);
digits(Rest, N, Count) -> {N, Count, Rest}.

fraction([$. | Rest]) ->
    case digits(Rest) of
        {_, 0, _} -> error;
        {_, Count, _} when Count > ?MAX_DIGITS -> error;
        {F, Count, UnitText} -> {ok, F, Count, UnitText}
    end;
fraction(UnitText) ->
    {ok, 0, 0, UnitText}.

unit("ms", _) -> {ok, ms};
unit("s", _) -> {ok, s};
unit("m", _) -> {ok, m};
unit("h", _) -> {ok, h};
unit("T", true) -> {ok, ticks};
unit(_, _) -> error.

scale(ms, _) -> 1;
scale(s, _) -> 1000;
scale(m, _) -> 60000;
scale(h, _) -> 3600000;
scale(ticks, T) -> T.

pow10(0) -> 1;
pow10(N) -> 10 * pow10(N - 1).

bad(Text, Why) when is_list(Text) -> {error, {bad_duration, Text, Why}}.
