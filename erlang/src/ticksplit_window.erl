%% @doc The tick window and the duration classes around it (pure functions).
%%
%% With `T = net_ticktime' and `I = net_tickintensity', a silent peer is declared down after
%% between `T - T/I' and `T + T/I': the detection window `{Min, Max}' that an agent reports.
%% The classes are ticksplit-ctl's (common/tick_window.hpp), in the same integer arithmetic,
%% both pinned by tests/data/golden/window_classes.txt; bounds are whole ms, lower ones
%% rounded up and upper ones down:
%% <ul>
%%  <li>`below_window': `T/10' to `0.45 * Min'. TCP's retransmission backoff can keep a link
%%      silent for about twice the drop, so a drop in this range leaves distribution an outage
%%      shorter than `Min'.</li>
%%  <li>`in_window': `Min' to `Max', where `nodedown' is a race.</li>
%%  <li>`above_window': `1.2 * Max' to `1.6 * Max', where `nodedown' is certain.</li>
%% </ul>
%%
%% Call-timeout classes size a drop against a `gen_server:call' timeout `C' instead (default
%% 5000 ms, gen_server's; 1000 to 3600000 ms), with the same factors for TCP's backoff:
%% `below_call_timeout' (`C/10' to `0.45 * C': calls in flight complete late but in time),
%% `around_call_timeout' (`C/2' to `C': they straddle the timeout) and `above_call_timeout'
%% (`1.2 * C' to `1.6 * C': a call in flight at the start times out). A class whose longest drop
%% is above below_window's longest (`0.45 * Min') could take nodes down, and is refused.
%% common/tick_window.hpp has the same rules; tests/data/golden/call_classes.txt pins both.
-module(ticksplit_window).

-export([detection_window/2, classes/0, class_range/2, classify/2, pick/2]).
-export([call_classes/0, call_class_range/3, pick_call/3, default_call_timeout_ms/0]).
-export_type([window/0, class/0, call_class/0, call_class_error/0]).

-type window() :: {MinMs :: pos_integer(), MaxMs :: pos_integer()}.
-type class() :: below_window | in_window | above_window.
-type call_class() :: below_call_timeout | around_call_timeout | above_call_timeout.
-type call_class_error() :: {call_timeout_out_of_range, integer(), {pos_integer(), pos_integer()}}
                          | {longer_than_window, call_class(), LongestMs :: pos_integer(), LimitMs :: pos_integer()}.

-define(MIN_CALL_TIMEOUT_MS, 1000).
-define(MAX_CALL_TIMEOUT_MS, 3600000).

%% @doc The window for `T' (ms) and `I'.
-spec detection_window(pos_integer(), pos_integer()) -> window().
detection_window(T, I) when is_integer(T), T > 0, is_integer(I), I >= 1 ->
    {T - T div I, T + T div I}.

%% @doc The three duration classes, shortest first.
-spec classes() -> [class()].
classes() -> [below_window, in_window, above_window].

%% @doc The range of durations, in milliseconds and inclusive, of a class for a window.
-spec class_range(class(), window()) -> {pos_integer(), pos_integer()}.
class_range(Class, {Min, Max} = W) when is_integer(Min), is_integer(Max), Min > 0, Max >= Min ->
    range(Class, W);
class_range(_, W) ->
    error({bad_window, W}).

range(below_window, {Min, Max}) ->
    T = (Min + Max) div 2,                      % exact: Min + Max = 2T
    Lo = max(1, (T + 9) div 10),                % T/10, rounded up
    {Lo, max(Lo, Min * 9 div 20)};              % 0.45 x Min, rounded down
range(in_window, {Min, Max}) ->
    {Min, Max};
range(above_window, {_, Max}) ->
    {(Max * 6 + 4) div 5, Max * 8 div 5};
range(Class, _) ->
    error({unknown_class, Class}).

%% @doc Which side of the window a drop of `Ms' milliseconds falls on. Durations between the
%% below_window range and `Min' count as below_window: they end before any node can time out.
-spec classify(pos_integer(), window()) -> class().
classify(Ms, {Min, _}) when Ms < Min -> below_window;
classify(Ms, {_, Max}) when Ms =< Max -> in_window;
classify(_, _) -> above_window.

%% @doc A uniformly random duration of the class.
-spec pick(class(), window()) -> pos_integer().
pick(Class, W) ->
    {Lo, Hi} = class_range(Class, W),
    Lo + rand:uniform(Hi - Lo + 1) - 1.

%% @doc The call-timeout classes, shortest first.
-spec call_classes() -> [call_class()].
call_classes() -> [below_call_timeout, around_call_timeout, above_call_timeout].

%% @doc gen_server:call's default timeout, the classes' default `C'.
-spec default_call_timeout_ms() -> pos_integer().
default_call_timeout_ms() -> 5000.

%% @doc The range, in milliseconds and inclusive, of a call-timeout class for the call timeout
%% `C' (ms) and a window; or why the class cannot be used there.
-spec call_class_range(call_class(), integer(), window()) ->
          {ok, {pos_integer(), pos_integer()}} | {error, call_class_error()}.
call_class_range(_, C, _) when not is_integer(C); C < ?MIN_CALL_TIMEOUT_MS; C > ?MAX_CALL_TIMEOUT_MS ->
    {error, {call_timeout_out_of_range, C, {?MIN_CALL_TIMEOUT_MS, ?MAX_CALL_TIMEOUT_MS}}};
call_class_range(Class, C, W) ->
    {Lo, Hi} = call_range(Class, C),
    {_, Limit} = class_range(below_window, W),
    case Hi =< Limit of
        true -> {ok, {Lo, Hi}};
        false -> {error, {longer_than_window, Class, Hi, Limit}}
    end.

call_range(below_call_timeout, C) -> {(C + 9) div 10, C * 9 div 20};
call_range(around_call_timeout, C) -> {(C + 1) div 2, C};
call_range(above_call_timeout, C) -> {(C * 6 + 4) div 5, C * 8 div 5};
call_range(Class, _) -> error({unknown_class, Class}).

%% @doc A uniformly random duration of a call-timeout class, or why there is none.
-spec pick_call(call_class(), integer(), window()) -> {ok, pos_integer()} | {error, call_class_error()}.
pick_call(Class, C, W) ->
    case call_class_range(Class, C, W) of
        {ok, {Lo, Hi}} -> {ok, Lo + rand:uniform(Hi - Lo + 1) - 1};
        Error -> Error
    end.
