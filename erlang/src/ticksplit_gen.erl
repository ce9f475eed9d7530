%% @doc PropEr generators for faults, so that faults shrink with the rest of a failing case.
%%
%% Needs PropEr at run time (Debian: `apt-get install erlang-proper'); the rest of ticksplit
%% does not. A `proper_statem' model adds the nemesis to its commands:
%%
%% ```
%% command(S) ->
%%     proper_types:frequency(
%%       [{5, {call, my_client, write, [key(), value()]}},
%%        {1, ticksplit_gen:nemesis(S#state.nodes, S#state.window)}]).
%%
%% postcondition(_, {call, ticksplit, _, _}, Result) -> element(1, Result) =:= ok;
%% '''
%%
%% where `S#state.window' comes from `ticksplit:window(Node)'. Durations shrink towards the
%% short end of their class, groups towards cutting off a single node, and loss towards a total
%% cut.
-module(ticksplit_gen).

-export([duration/1, duration/2, call_duration/3, groups/1, loss/0, nemesis/2, nemesis/3, kill_node/2]).
-export([kill_process/2, nemesis/4]).
-export([hogs/0]).

%% @doc A duration in milliseconds from any of the three classes of the window.
-spec duration(ticksplit_window:window()) -> proper_types:type().
duration(Window) ->
    require_proper(),
    proper_types:union([duration(C, Window) || C <- ticksplit_window:classes()]).

%% @doc A duration in milliseconds of one class (below_window, in_window, above_window) of
%% the window; see ticksplit_window:class_range/2.
-spec duration(ticksplit_window:class(), ticksplit_window:window()) -> proper_types:type().
duration(Class, Window) ->
    require_proper(),
    {Lo, Hi} = ticksplit_window:class_range(Class, Window),
    proper_types:integer(Lo, Hi).

%% @doc A duration in milliseconds of a call-timeout class (below_call_timeout,
%% around_call_timeout, above_call_timeout) for a call timeout of `CallTimeoutMs'; see
%% ticksplit_window:call_class_range/3. Fails with the reason when the window is too short for
%% the class (a drop that long could take nodes down).
-spec call_duration(ticksplit_window:call_class(), pos_integer(), ticksplit_window:window()) -> proper_types:type().
call_duration(Class, CallTimeoutMs, Window) ->
    require_proper(),
    case ticksplit_window:call_class_range(Class, CallTimeoutMs, Window) of
        {ok, {Lo, Hi}} -> proper_types:integer(Lo, Hi);
        {error, Why} -> error(Why)
    end.

%% @doc A `loss' option value: 1 (every packet, the plainest fault, what it shrinks to) or a
%% probability from 0.01 to 0.99.
-spec loss() -> proper_types:type().
loss() ->
    require_proper(),
    proper_types:union([1, proper_types:bind(proper_types:integer(1, 99), fun(P) -> P / 100 end, false)]).

%% @doc Two non-empty groups that together hold every node once, for ticksplit:split/2.
-spec groups([node(), ...]) -> proper_types:type().
groups([First | Rest]) when Rest =/= [] ->
    require_proper(),
    proper_types:bind(proper_types:vector(length(Rest), proper_types:boolean()),
                      fun(Bits) -> two_groups(First, lists:zip(Rest, Bits)) end,
                      false).

%% @doc A symbolic call of the ticksplit API for a `proper_statem' model: split, isolate,
%% one_way with a duration of any class and a loss (loss/0; none when total), pause of one node
%% with a duration of any class, stress of one node with a duration of any class and hogs
%% (hogs/0), or heal_all.
-spec nemesis([node(), ...], ticksplit_window:window()) -> proper_types:type().
nemesis(Nodes, Window) ->
    nemesis(Nodes, Window, ticksplit_window:classes()).

%% @doc As nemesis/2 with durations from the given classes only: window classes, or
%% call-timeout classes with their call timeout (`{above_call_timeout, 1000}').
-spec nemesis([node(), ...], ticksplit_window:window(),
              [ticksplit_window:class() | {ticksplit_window:call_class(), pos_integer()}, ...]) ->
          proper_types:type().
nemesis([_, _ | _] = Nodes, Window, [_ | _] = Classes) ->
    require_proper(),
    Ms = proper_types:union([case C of
                                 {Call, CallTimeoutMs} -> call_duration(Call, CallTimeoutMs, Window);
                                 _ -> duration(C, Window)
                             end || C <- Classes]),
    Opts = fun(Extra) ->
                   proper_types:bind({Ms, loss()},
                                     fun({D, 1}) -> Extra#{duration_ms => D};
                                        ({D, L}) -> Extra#{duration_ms => D, loss => L}
                                     end, false)
           end,
    %% no loss for a pause: a stopped process neither sends nor reads anything
    PauseOpts = proper_types:bind(Ms, fun(D) -> #{duration_ms => D} end, false),
    proper_types:weighted_union(
      [{3, {call, ticksplit, split, [groups(Nodes), Opts(#{})]}},
       {2, {call, ticksplit, isolate, [proper_types:elements(Nodes), Opts(#{nodes => Nodes})]}},
       {2, proper_types:bind(proper_types:elements(Nodes),
                             fun(From) ->
                                     {call, ticksplit, one_way,
                                      [From, proper_types:elements(Nodes -- [From]), Opts(#{})]}
                             end, false)},
       {2, {call, ticksplit, pause, [proper_types:elements(Nodes), PauseOpts]}},
       {2, {call, ticksplit, stress, [proper_types:elements(Nodes), stress_options(Ms)]}},
       {1, {call, ticksplit, heal_all, [Nodes]}}]).

%% @doc A symbolic `ticksplit:kill_node/2' call for a `proper_statem' model: one of the nodes
%% SIGKILLed and started again by its agent after a time of any class of the window (the agent
%% needs `--node-start' for it). Not part of nemesis/2 (a kill needs that configuration): add it
%% to the model's commands, e.g. `{1, ticksplit_gen:kill_node(Nodes, Window)}'. The restart
%% shrinks towards the short end of its class, the node towards the first.
-spec kill_node([node(), ...], ticksplit_window:window()) -> proper_types:type().
kill_node([_ | _] = Nodes, Window) ->
    require_proper(),
    proper_types:bind({proper_types:elements(Nodes), duration(Window)},
                      fun({N, After}) -> {call, ticksplit, kill_node, [N, #{restart_after_ms => After}]} end,
                      false).

%% @doc A symbolic kill_process call for a `proper_statem' model: one of the nodes, one of
%% the targets (`{name, Atom}' or `{supervisor, Atom}', those the system under test has), a
%% restart window from 10 ms to 5 s that shrinks towards 10 ms.
-spec kill_process([node(), ...], [ticksplit:process_target(), ...]) -> proper_types:type().
kill_process([_ | _] = Nodes, [_ | _] = Targets) ->
    require_proper(),
    {call, ticksplit, kill_process,
     [proper_types:elements(Nodes), proper_types:elements(Targets),
      proper_types:bind(proper_types:integer(10, 5000), fun(W) -> #{restart_window_ms => W} end, false)]}.

%% @doc As nemesis/3, with kill_process calls (kill_process/2) among the faults.
-spec nemesis([node(), ...], ticksplit_window:window(), [ticksplit_window:class(), ...],
              [ticksplit:process_target(), ...]) -> proper_types:type().
nemesis(Nodes, Window, Classes, [_ | _] = Targets) ->
    require_proper(),
    proper_types:weighted_union([{9, nemesis(Nodes, Window, Classes)}, {2, kill_process(Nodes, Targets)}]).

%% @doc A `hogs' option of ticksplit:stress/2: busy processes per online scheduler, 1 to 16,
%% shrinking towards 1 (the mildest stress that still starves normal priority).
-spec hogs() -> proper_types:type().
hogs() ->
    require_proper(),
    proper_types:integer(1, 16).

%% A stress's options: a duration and hogs (no loss: a busy node drops nothing).
stress_options(Ms) ->
    proper_types:bind({Ms, hogs()}, fun({D, H}) -> #{duration_ms => D, hogs => H} end, false).

two_groups(First, Tagged) ->
    Mine = [First | [N || {N, false} <- Tagged]],
    case [N || {N, true} <- Tagged] of
        [] -> [lists:droplast(Mine), [lists:last(Mine)]];
        Theirs -> [Mine, Theirs]
    end.

require_proper() ->
    case code:ensure_loaded(proper_types) of
        {module, proper_types} -> ok;
        _ -> error({proper_not_available,
                    "ticksplit_gen needs PropEr in the code path (Debian: apt-get install erlang-proper)"})
    end.
