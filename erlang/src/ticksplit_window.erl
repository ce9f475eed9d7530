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
-module(ticksplit_window).

-export([detection_window/2, classes/0, class_range/2, classify/2, pick/2]).
-export_type([window/0, class/0]).

-type window() :: {MinMs :: pos_integer(), MaxMs :: pos_integer()}.
-type class() :: below_window | in_window | above_window.

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
