%% A fake of the ticksplit fault API for the nemesis's tests (ticksplit_workload's
%% `fault_api' seam): faults are timers, events go to the subscribers as an agent would send
%% them. start(Mode) before use: `observed' (every agent reports the heal at the fault's
%% end, a pause's agent that it ended), `unresumed' (as observed, but a pause ends with an
%% error and no resume), `silent' (no agent reports any end), `refuse' (every fault is
%% refused). calls() lists what was asked, in order.
-module(ticksplit_fake_faults).

-export([start/1, calls/0, split/2, isolate/2, one_way/3, pause/2, heal/1, heal_all/1,
         subscribe/1, unsubscribe/1, window/1, kill_node/2, kill_process/3]).
-export([killed_after_us/0, restart_after_us/0]).
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
%% A killed process dies this long after the start, and is restarted this much later (µs).
-define(KILLED_AFTER_US, 5).
-define(RESTART_AFTER_US, 2000).

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

%% A kill: SIGKILLed STOPPED_AFTER_US after the start, exited 10 µs later, started again
%% RESUME_LATE_US after its planned restart (both reported when they happen).
-spec kill_node(node(), map()) -> {ok, map()} | {error, term()}.
kill_node(Node, Opts) ->
    log({kill_node, Node, Opts}),
    After = maps:get(restart_after_ms, Opts, undefined),
    fault(#{kind => kill_node, agents => [agent(Node)], node => Node, drops => [], restart_after_ms => After},
          #{duration_ms => case After of undefined -> 0; _ -> After end}).

-spec kill_process(node(), {name | supervisor, atom()}, map()) -> {ok, map()} | {error, term()}.
kill_process(Node, Target, Opts) ->
    log({kill_process, Node, Target, Opts}),
    fault(#{kind => kill_process, agents => [agent(Node)], node => Node, drops => [], target => Target},
          #{duration_ms => maps:get(restart_window_ms, Opts, 1000)}).

%% What process_killed reports of a kill's times, for the tests.
-spec killed_after_us() -> pos_integer().
killed_after_us() -> ?KILLED_AFTER_US.
-spec restart_after_us() -> pos_integer().
restart_after_us() -> ?RESTART_AFTER_US.

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
play(#{kind := kill_node, id := Id, node := Node, agents := [A], start_at_us := Start, duration_ms := Ms,
       restart_after_ms := After}, Mode, Subscribers) ->
    Killed = Start + ?STOPPED_AFTER_US,
    Planned = case After of undefined -> undefined; _ -> Start + Ms * 1000 end,
    sleep_until(Start),
    Send = fun(E) -> [P ! {ticksplit_event, A, E} || Mode =/= silent, P <- Subscribers] end,
    Send(#{type => node_killed, id => Id, node => Node, os_pid => 4242, owner => node(), killed_us => Killed,
           exited_us => Killed + 10, planned_restart_us => Planned, time_us => now_us(), seq => 2}),
    Started = case After of
                  undefined -> undefined;
                  _ -> sleep_until(Planned), Planned + ?RESUME_LATE_US
              end,
    Send(#{type => kill_ended, id => Id, node => Node, reason => deadline, killed => true, killed_us => Killed,
           exited_us => Killed + 10, planned_restart_us => Planned, started_us => Started,
           start_pid => 5151, error => <<>>, time_us => now_us(), seq => 3}),
    ok;
%% At the start, the process dies; its restart is seen 2 ms later (unresumed: never, and the
%% agent reports an error instead); the report comes once the restart window is over.
play(#{kind := kill_process, id := Id, node := Node, agents := [A], start_at_us := Start, duration_ms := Ms,
       target := {Kind, Name}},
     Mode, Subscribers) ->
    sleep_until(Start + Ms * 1000),
    Killed = Start + ?KILLED_AFTER_US,
    Base = #{type => kill_process_event, id => Id, node => Node, owner => node(),
             target => case Kind of name -> name; supervisor -> child_of end, Kind => Name,
             planned_us => Start, restart_window_ms => Ms, time_us => now_us(), seq => 3},
    Event = case Mode of
                observed -> Base#{pid => <<"<0.90.0>">>, killed_us => Killed, restarted => true,
                                  new_pid => <<"<0.95.0>">>, restarted_us => Killed + ?RESTART_AFTER_US,
                                  error => <<>>};
                _ -> Base#{pid => undefined, killed_us => undefined, restarted => false, new_pid => undefined,
                           restarted_us => undefined, error => <<"no process is registered as ", (atom_to_binary(Name))/binary>>}
            end,
    [P ! {ticksplit_event, A, Event#{type => process_killed}} || Mode =/= silent, P <- Subscribers],
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

%% Rounded up to the ms: a report sent before its instant (a sleep 0.9 ms short) would be one
%% no agent sends (seen: an unresumed pause's end 0.3 ms before its deadline).
sleep_until(Us) ->
    timer:sleep(max(0, (Us - now_us() + 999) div 1000)).

agent(Node) ->
    [_, Host] = string:split(atom_to_list(Node), "@"),
    list_to_atom("agent_" ++ Host ++ "@" ++ Host).

now_us() -> erlang:system_time(microsecond).

log(Call) ->
    true = ets:insert(?TAB, {{call, erlang:unique_integer([monotonic])}, Call}),
    ok.
