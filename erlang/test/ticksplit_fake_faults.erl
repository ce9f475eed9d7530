%% A fake of the ticksplit fault API for the nemesis's tests (ticksplit_workload's
%% `fault_api' seam): faults are timers, events go to the subscribers as an agent would send
%% them. start(Mode) before use: `observed' (every agent reports the heal at the fault's
%% end, a pause's agent that it ended), `unresumed' (as observed, but a pause ends with an
%% error and no resume), `silent' (no agent reports any end), `refuse' (every fault is
%% refused). calls() lists what was asked, in order.
-module(ticksplit_fake_faults).

-export([start/1, calls/0, split/2, isolate/2, one_way/3, pause/2, heal/1, heal_all/1,
         subscribe/1, unsubscribe/1, window/1]).
-export([stress/2]).
-export([stopped_after_us/0, resume_late_us/0, resume_error/0]).

-define(TAB, ?MODULE).
-define(WINDOW, {1500, 2500}).
%% The node outside every fault: it sees a paused node go.
-define(OTHER, 'other@h0').
%% A paused node stops this long after the start, and is resumed this late (µs).
-define(STOPPED_AFTER_US, 3).
-define(RESUME_LATE_US, 7).
-define(RESUME_ERROR, <<"cannot resume: no such process">>).

-spec start(observed | unresumed | silent | refuse) -> ok.
start(Mode) ->
    catch ets:delete(?TAB),
    ?TAB = ets:new(?TAB, [named_table, public, ordered_set]),
    true = ets:insert(?TAB, {mode, Mode}),
    ok.

-spec calls() -> [term()].
calls() ->
    [C || {{call, _}, C} <- ets:tab2list(?TAB)].

-spec subscribe([node()]) -> ok.
subscribe(Nodes) ->
    log({subscribe, Nodes}),
    true = ets:insert(?TAB, {{subscriber, self()}, true}),
    %% like an agent that has just seen its node come up
    self() ! {ticksplit_event, agent(hd(Nodes)),
              #{type => nodeup, time_us => now_us(), observer => hd(Nodes), peer => ?OTHER,
                node_type => visible, seq => 1}},
    ok.

-spec unsubscribe([node()]) -> ok.
unsubscribe(Nodes) ->
    log({unsubscribe, Nodes}),
    ets:delete(?TAB, {subscriber, self()}),
    ok.

-spec window(node()) -> {ok, {pos_integer(), pos_integer()}}.
window(_) -> {ok, ?WINDOW}.

-spec split([[node()]], map()) -> {ok, map()} | {error, term()}.
split(Groups, Opts) ->
    log({split, Groups, Opts}),
    {ok, Drops} = ticksplit_groups:drop_sets(Groups),
    arm(Drops, Opts).

-spec isolate(node(), map()) -> {ok, map()} | {error, term()}.
isolate(Node, #{nodes := Nodes} = Opts) ->
    log({isolate, Node, Opts}),
    {ok, Drops} = ticksplit_groups:drop_sets([[Node], Nodes -- [Node]]),
    arm(Drops, maps:remove(nodes, Opts)).

-spec one_way(node(), node(), map()) -> {ok, map()} | {error, term()}.
one_way(From, To, Opts) ->
    log({one_way, From, To, Opts}),
    arm([{To, [From]}], Opts).

-spec pause(node(), map()) -> {ok, map()} | {error, term()}.
pause(Node, Opts) ->
    log({pause, Node, Opts}),
    fault(#{kind => pause, agents => [agent(Node)], node => Node, drops => []}, Opts).

-spec stress(node(), map()) -> {ok, map()} | {error, term()}.
stress(Node, Opts) ->
    log({stress, Node, Opts}),
    fault(#{kind => stress, agents => [agent(Node)], node => Node, drops => [],
            hogs => maps:get(hogs, Opts, 2)}, Opts).

%% What pause_started and pause_ended report of a paused node's times, for the tests.
-spec stopped_after_us() -> pos_integer().
stopped_after_us() -> ?STOPPED_AFTER_US.
-spec resume_late_us() -> pos_integer().
resume_late_us() -> ?RESUME_LATE_US.
-spec resume_error() -> binary().
resume_error() -> ?RESUME_ERROR.

-spec heal(map()) -> ok.
heal(#{id := Id}) ->
    log({heal, Id}),
    ok.

-spec heal_all([node()]) -> ok.
heal_all(Nodes) ->
    log({heal_all, Nodes}),
    ok.

arm(Drops, Opts) ->
    {ok, PerAgent} = ticksplit_groups:by_agent(Drops, fun agent/1),
    fault(#{kind => partition, agents => [A || {A, _, _} <- PerAgent], drops => PerAgent, direction => in},
          Opts).

fault(Fault0, Opts) ->
    case ets:lookup_element(?TAB, mode, 2) of
        refuse ->
            {error, {refused, 'agent_x@h', {backend, "no clsact"}}};
        Mode ->
            Ms = case Opts of
                     #{duration_ms := D} -> D;
                     #{duration := Class} -> ticksplit_window:pick(Class, ?WINDOW)
                 end,
            Id = iolist_to_binary(io_lib:format("fake-~b", [erlang:unique_integer([positive])])),
            Start = now_us() + 20000,
            Fault = Fault0#{id => Id, start_at_us => Start, duration_ms => Ms},
            Subscribers = [P || {{subscriber, P}, _} <- ets:tab2list(?TAB)],
            started(Fault, Subscribers),
            spawn(fun() -> play(Fault, Mode, Subscribers) end),
            {ok, Fault}
    end.

%% A pause's stop is reported as it is armed, with the planned times (an agent reports it at
%% the start), so that whether it arrives in time does not depend on the scheduler.
started(#{kind := pause, agents := [A], start_at_us := Start} = Fault, Subscribers) ->
    Started = (pause_times(Fault))#{type => pause_started, os_pid => 4242, owner => node(),
                                    confirmed_us => Start + 2 * ?STOPPED_AFTER_US, time_us => now_us(), seq => 2},
    [P ! {ticksplit_event, A, Started} || P <- Subscribers],
    ok;
started(_, _) ->
    ok.

pause_times(#{id := Id, node := Node, start_at_us := Start, duration_ms := Ms}) ->
    #{id => Id, node => Node, stopped_us => Start + ?STOPPED_AFTER_US, planned_end_us => Start + Ms * 1000}.

%% At the start, the other node sees the paused one go down; at the end, its agent reports the
%% pause ended (unless silent).
play(#{kind := pause, node := Node, agents := [A], start_at_us := Start, duration_ms := Ms} = Fault,
     Mode, Subscribers) ->
    End = Start + Ms * 1000,
    sleep_until(Start),
    [P ! {ticksplit_event, agent(?OTHER), #{type => nodedown, time_us => now_us(), observer => ?OTHER,
                                            peer => Node, reason => net_tick_timeout, node_type => visible,
                                            seq => 2}}
     || P <- Subscribers],
    sleep_until(End),
    Ended = (pause_times(Fault))#{type => pause_ended, reason => deadline, started => true,
                                  time_us => now_us(), seq => 3},
    [P ! {ticksplit_event, A, case Mode of
                                  observed -> Ended#{resumed_us => End + ?RESUME_LATE_US, error => <<>>};
                                  unresumed -> Ended#{resumed_us => undefined, error => ?RESUME_ERROR}
                              end}
     || Mode =/= silent, P <- Subscribers],
    ok;
%% A stress: its agent reports the node's figures 500 ms after the end, as a node does (no
%% nodedown: distribution runs at the hogs' priority).
play(#{kind := stress, id := Id, node := Node, agents := [A], start_at_us := Start, duration_ms := Ms,
       hogs := Hogs}, Mode, Subscribers) ->
    End = Start + Ms * 1000,
    sleep_until(End),
    Ended = #{type => stress_ended, id => Id, node => Node, reason => deadline, started => true,
              started_us => Start + 5, ended_us => End + 9, planned_end_us => End, hogs => Hogs,
              processes => 2 * Hogs, utilisation_before => 0.01, utilisation_during => 0.99,
              utilisation_after => 0.02, normal_late_max_ms => Ms * 1.0,
              rtt_before_ms => {0.5, 0.9, 3, 0}, rtt_during_ms => {16.0, 24.0, 19, 0},
              error => <<>>, time_us => now_us(), seq => 3},
    [P ! {ticksplit_event, A, Ended} || Mode =/= silent, P <- Subscribers],
    ok;
%% At the start, every cut node sees its first peer go down; at the end, every agent reports
%% the heal (unless silent).
play(#{id := Id, drops := PerAgent, start_at_us := Start, duration_ms := Ms}, Mode, Subscribers) ->
    sleep_until(Start),
    [P ! {ticksplit_event, A, #{type => nodedown, time_us => now_us(), observer => N, peer => hd(Peers),
                                reason => net_tick_timeout, node_type => visible, seq => 2}}
     || {A, [N | _], Peers} <- PerAgent, P <- Subscribers],
    End = Start + Ms * 1000,
    sleep_until(End),
    [P ! {ticksplit_event, A, #{type => fault_healed, id => Id, reason => deadline, end_us => End + I,
                                start_us => Start, dropped_packets => 3, seq => 3}}
     || Mode =/= silent, {I, {A, _, _}} <- lists:enumerate(PerAgent), P <- Subscribers],
    ok.

sleep_until(Us) ->
    timer:sleep(max(0, (Us - now_us()) div 1000)).

agent(Node) ->
    [_, Host] = string:split(atom_to_list(Node), "@"),
    list_to_atom("agent_" ++ Host ++ "@" ++ Host).

now_us() -> erlang:system_time(microsecond).

log(Call) ->
    true = ets:insert(?TAB, {{call, erlang:unique_integer([monotonic])}, Call}),
    ok.
