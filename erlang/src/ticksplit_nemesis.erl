%% @doc The nemesis of a workload (ticksplit_workload's `nemesis' option): a process that runs
%% fault steps through the ticksplit API while the clients run, and writes what happened into
%% the same history, in the lines ticksplit-ctl writes:
%% ```
%% {"drop_sets":{"app@h1":["app@h2","app@h3"],...},"fault":"ts-...","groups":[["app@h1"],["app@h2","app@h3"]],"kind":"fault_start","number":1,"requested":"above_window","requested_ms":3412,"shape":"isolate","time_us":...,"window_class":"above_window"}
%% {"dropped_packets":52,"fault":"ts-...","heal_observed":true,"kind":"fault_end","time_us":...}
%% {"agent":"ticksplit@h2","kind":"nodedown","node_type":"visible","observer":"app@h2","peer":"app@h1","reason":"net_tick_timeout","time_us":...}
%% '''
%% Steps, in order: `{wait, Ms}', `{split, Groups, FaultOpts}', `{isolate, Node, FaultOpts}',
%% `{one_way, From, To, FaultOpts}', `{pause, Node, FaultOpts}', `{kill_node, Node, KillOpts}',
%% `{stress, Node, FaultOpts}' (FaultOpts may add `hogs'), `heal_all' (of the workload's
%% nodes). FaultOpts are those of ticksplit:split/2 (`duration_ms' or `duration'; a pause takes
%% no `loss' or `direction'). A fault step arms the fault,
%% writes `fault_start' (its `time_us' is the fault's start, a little in the future when the
%% line is written: the checker sorts by time), then waits for every agent of the fault to
%% report it healed and writes `fault_end' at the latest agent's `end_us', with the dropped
%% packets summed. If some agent has not reported it within the duration and `heal_grace_ms'
%% (default 5000), the fault is healed by request, `fault_end' is written at the planned end
%% with `"heal_observed":false', and a note says so. Faults therefore never overlap.
%% `window_class' is the duration's class in the first node's detection window (`""' if the
%% agent could not say); `groups' is absent for one_way. `effective_groups', `links_cut',
%% `links_one_way' and `links_up' are the effective topology over the workload's nodes and those
%% the fault names (ticksplit_groups:effective/2).
%%
%% A pause drops nothing (`drop_sets' is empty, `loss' 1.0), but to distribution the stopped
%% node is cut off from every other: its `fault_start' has `"shape":"pause"', `node', `groups'
%% and the topology of that node isolated from the workload's nodes, as ticksplit-ctl writes
%% for a pause. Its end is the agent's `pause_ended' rather than `fault_healed': `fault_end' is
%% at `resumed_us' (the node running again) and adds `stopped_us', `resumed_us' and
%% `resume_late_us' (`resumed_us' - `planned_end_us'), each null where the agent did not say:
%% ```
%% {"dropped_packets":0,"fault":"ts-...","heal_observed":true,"kind":"fault_end","resume_late_us":2710,"resumed_us":...,"stopped_us":...,"time_us":...}
%% '''
%%
%% A kill (`{kill_node, Node, KillOpts}', KillOpts those of ticksplit:kill_node/2) is written
%% as a pause is, with `"shape":"kill_node"', `node' and `restart_after_ms' (null: the host's
%% supervisor restarts it) on `fault_start'; its end is the agent's `kill_ended': `fault_end'
%% is at `started_us' (the node started again; the event's time without a restart) and adds
%% `down_us' (the SIGKILL), `exited_us', `started_us' and `restart_late_us', null where the
%% agent did not say.
%% A kill_process (`{kill_process, Node, Target, KillOpts}', as ticksplit:kill_process/3) cuts
%% nothing: its `fault_start' has `"shape":"kill_process"', `node', `target' and the name or
%% supervisor, `requested_ms' is the restart window; its end is the agent's `process_killed',
%% and `fault_end' (at the time the agent reported it) adds `pid', `killed_us', `restarted',
%% `new_pid', `restarted_us', `restart_after_us' and `error' (`""' when killed), null where the
%% agent did not say.
%% A stress drops and stops nothing (`drop_sets' empty, every link up, `node' and `hogs' in its
%% `fault_start'); its end is the agent's `stress_ended': `fault_end' is at `ended_us' (the last
%% hog gone) and adds the node's figures: `utilisation_before', `utilisation_during',
%% `utilisation_after', `normal_late_max_ms', `rtt_before_ms' and `rtt_during_ms'
%% (`{"median_ms", "max_ms", "count", "lost"}'), `started_us', `ended_us'; null where the node
%% did not say.
%%
%% While subscribed, every `nodeup'/`nodedown' an agent reports becomes a line (`reason' on
%% nodedowns), until the workload stops the nemesis.
-module(ticksplit_nemesis).

-export([start_link/1, go/1, skip_rest/1, stop/1]).
-export_type([step/0]).

-type step() :: {wait, non_neg_integer()}
              | {split, [[node()]], ticksplit:options()}
              | {isolate, node(), ticksplit:options()}
              | {one_way, node(), node(), ticksplit:options()}
              | {pause, node(), ticksplit:options()}
              | {kill_node, node(), map()}
              | {kill_process, node(), ticksplit:process_target(), ticksplit:kill_options()}
              | {stress, node(), ticksplit:options()}
              | heal_all.

-define(DEFAULT_GRACE_MS, 5000).

%% @doc Starts the nemesis, linked: it subscribes to the agents of `nodes' (if `subscribe')
%% and reads the first node's window, then waits for go/1. Config: `api' (the fault API
%% module, ticksplit unless a test gives a fake), `nodes', `recorder', `steps', `subscribe',
%% `heal_grace_ms'. The caller receives `{ticksplit_nemesis, Pid, {done, Faults}}' or
%% `{ticksplit_nemesis, Pid, {failed, Reason, Faults}}' when the steps are over.
-spec start_link(map()) -> {ok, pid()} | {error, term()}.
start_link(Config) ->
    Parent = self(),
    Pid = spawn_link(fun() -> init(Parent, Config) end),
    Ref = monitor(process, Pid),
    receive
        {?MODULE, Pid, ready} -> demonitor(Ref, [flush]), {ok, Pid};
        {?MODULE, Pid, {error, _} = Error} -> demonitor(Ref, [flush]), unlink(Pid), Error;
        {'DOWN', Ref, process, Pid, Why} -> unlink(Pid), {error, {nemesis_crashed, Why}}
    end.

%% @doc Starts the steps.
-spec go(pid()) -> ok.
go(Pid) ->
    Pid ! {?MODULE, go},
    ok.

%% @doc Skips the steps not started yet (a wait ends at once; a fault in progress is still
%% followed until it heals).
-spec skip_rest(pid()) -> ok.
skip_rest(Pid) ->
    Pid ! {?MODULE, skip_rest},
    ok.

%% @doc Stops recording events, unsubscribes and waits until the nemesis has exited. Call it
%% after the `done' message (or to abandon the steps).
-spec stop(pid()) -> ok.
stop(Pid) ->
    Ref = monitor(process, Pid),
    Pid ! {?MODULE, stop},
    receive {'DOWN', Ref, process, Pid, _} -> ok end.

%%% The process

init(Parent, #{api := Api, nodes := Nodes} = Config) ->
    Subscribed = case maps:get(subscribe, Config, false) of
                     true -> Api:subscribe(Nodes);
                     false -> ok
                 end,
    case Subscribed of
        ok ->
            Window = case maps:get(steps, Config, []) of
                         [] -> undefined;
                         _ -> window(Api, hd(Nodes))
                     end,
            Parent ! {?MODULE, self(), ready},
            S = Config#{parent => Parent, window => Window, number => 0, faults => [],
                        skip => false,
                        grace_ms => maps:get(heal_grace_ms, Config, ?DEFAULT_GRACE_MS)},
            await_go(S);
        {error, Why} ->
            Parent ! {?MODULE, self(), {error, {subscribe, Why}}}
    end.

window(Api, Node) ->
    case Api:window(Node) of
        {ok, W} -> W;
        _ -> undefined
    end.

await_go(S) ->
    receive
        {?MODULE, go} -> steps(maps:get(steps, S, []), S);
        {?MODULE, stop} -> finish(S);
        {ticksplit_event, Agent, Event} -> await_go(event(Agent, Event, S))
    end.

steps([], S) ->
    report({done, lists:reverse(maps:get(faults, S))}, S);
steps(_, #{skip := true} = S) ->
    steps([], S);
steps([{wait, Ms} | Rest], S) ->
    steps(Rest, follow(deadline_us(Ms * 1000), fun(_) -> false end, S));
steps([heal_all | Rest], #{api := Api, nodes := Nodes, recorder := Rec} = S) ->
    case Api:heal_all(Nodes) of
        ok -> ok = ticksplit_ops:note(Rec, <<"nemesis: heal_all">>), steps(Rest, S);
        {error, Why} -> failed({heal_all, Why}, S)
    end;
steps([Step | Rest], S) ->
    case fault(Step, S) of
        {ok, S1} -> steps(Rest, S1);
        {error, Why, S1} -> failed(Why, S1)
    end.

failed(Why, #{recorder := Rec} = S) ->
    _ = ticksplit_ops:note(Rec, "nemesis stopped: ~0tp", [Why]),
    report({failed, Why, lists:reverse(maps:get(faults, S))}, S).

report(Result, #{parent := Parent} = S) ->
    Parent ! {?MODULE, self(), Result},
    case S of
        #{stopping := true} -> finish(S);
        _ -> idle(S)
    end.

%% After the steps: record events until stopped.
idle(S) ->
    receive
        {?MODULE, stop} -> finish(S);
        {?MODULE, _} -> idle(S);
        {ticksplit_event, Agent, Event} -> idle(event(Agent, Event, S))
    end.

finish(#{api := Api, nodes := Nodes} = S) ->
    case maps:get(subscribe, S, false) of
        true -> _ = Api:unsubscribe(Nodes), ok;
        false -> ok
    end.

%%% Faults

fault(Step, #{api := Api, recorder := Rec, number := N0} = S0) ->
    case arm(Api, Step) of
        {ok, #{id := Id, start_at_us := Start, duration_ms := Ms, agents := Agents} = Fault} ->
            N = N0 + 1,
            S = S0#{number := N},
            ok = ticksplit_ops:event(Rec, start_line(Step, Fault, N, S)),
            Planned = Start + Ms * 1000,
            Done = fun(#{healed := H}) -> lists:all(fun(A) -> is_map_key(A, H) end, Agents) end,
            %% `pause': the times the agent reports of a pause, the planned end until it does
            S1 = follow(Planned + maps:get(grace_ms, S) * 1000, Done,
                        S#{current => Id, healed => #{}, pause => #{planned_end_us => Planned}}),
            #{healed := H} = S1,
            Observed = Done(S1),
            End = case Observed of
                      true -> lists:max([E || {E, _} <- maps:values(H)]);
                      false -> unobserved(Api, Fault, Agents -- maps:keys(H), Rec), Planned
                  end,
            Dropped = lists:sum([D || {_, D} <- maps:values(H)]),
            Outcome = maps:merge(#{dropped_packets => Dropped, heal_observed => Observed},
                                 maps:merge(pause_outcome(Step, S1), kill_outcome(Step, S1))),
            ok = ticksplit_ops:event(Rec, Outcome#{kind => fault_end, time_us => End, fault => Id}),
            Summary = Outcome#{id => Id, number => N, shape => shape(Step), start_us => Start,
                               end_us => End, requested_ms => Ms, window_class => class(Ms, S)},
            {ok, maps:without([current, healed, pause, killed, stress], S1#{faults := [Summary | maps:get(faults, S1)]})};
        {error, Why} ->
            {error, {Step, Why}, S0}
    end.

arm(Api, {split, Groups, Opts}) -> Api:split(Groups, Opts);
arm(Api, {isolate, Node, Opts}) -> Api:isolate(Node, Opts);
arm(Api, {one_way, From, To, Opts}) -> Api:one_way(From, To, Opts);
arm(Api, {pause, Node, Opts}) -> Api:pause(Node, Opts);
arm(Api, {kill_node, Node, Opts}) -> Api:kill_node(Node, Opts);
arm(Api, {kill_process, Node, Target, Opts}) -> Api:kill_process(Node, Target, Opts);
arm(Api, {stress, Node, Opts}) -> Api:stress(Node, Opts).

%% A kill's times as its agent reported them (kept in the same map as a pause's), null where it
%% did not.
kill_outcome({kill_node, _, _}, #{pause := P}) ->
    Late = case P of
               #{started_us := St, planned_restart_us := Pl} -> St - Pl;
               _ -> null
           end,
    #{down_us => maps:get(killed_us, P, null), exited_us => maps:get(exited_us, P, null),
      started_us => maps:get(started_us, P, null), restart_late_us => Late};
%% What a kill_process's node saw, as its agent reported it; null where it did not.
kill_outcome({kill_process, _, _, _}, S) ->
    K = maps:get(killed, S, #{}),
    Get = fun(Key) -> case maps:get(Key, K, undefined) of undefined -> null; V -> V end end,
    After = case K of
                #{killed_us := Kd, restarted_us := R} when is_integer(Kd), is_integer(R) -> R - Kd;
                _ -> null
            end,
    #{pid => Get(pid), killed_us => Get(killed_us), restarted => maps:get(restarted, K, false),
      new_pid => Get(new_pid), restarted_us => Get(restarted_us), restart_after_us => After,
      error => maps:get(error, K, <<"no process_killed from the agent">>)};
kill_outcome(_, _) ->
    #{}.

%% A pause's times as its agent reported them, null where it did not.
pause_outcome({pause, _, _}, #{pause := P}) ->
    Late = case P of
               #{resumed_us := R, planned_end_us := E} -> R - E;
               _ -> null
           end,
    #{stopped_us => maps:get(stopped_us, P, null), resumed_us => maps:get(resumed_us, P, null),
      resume_late_us => Late};
pause_outcome({stress, _, _}, #{stress := F}) ->
    F;
pause_outcome({stress, _, _}, _) ->
    #{utilisation_during => null};
pause_outcome(_, _) ->
    #{}.

unobserved(Api, Fault, Silent, Rec) ->
    _ = Api:heal(Fault),
    ok = ticksplit_ops:note(Rec, "nemesis: no ~s for fault ~s from ~0tp within its duration and "
                                 "the grace; healed by request, fault_end written at the planned end",
                            [end_event(Fault), maps:get(id, Fault), Silent]).

end_event(#{kind := pause}) -> pause_ended;
end_event(#{kind := kill_node}) -> kill_ended;
end_event(#{kind := kill_process}) -> process_killed;
end_event(#{kind := stress}) -> stress_ended;
end_event(_) -> fault_healed.

start_line(Step, #{id := Id, start_at_us := Start, duration_ms := Ms, drops := Drops} = Fault, N, S) ->
    DropSets = maps:from_list([{Node, Peers} || {_Agent, Nodes, Peers} <- Drops, Node <- Nodes]),
    {Nodes, Cuts} = cuts(Step, DropSets, maps:get(nodes, S)),
    %% What the fault does to distribution's links, as ticksplit-ctl records it.
    #{groups := Effective, cut := Cut, one_way := OneWay, up := Up} = ticksplit_groups:effective(Nodes, Cuts),
    Pairs = fun(Links) -> [[A, B] || {A, B} <- Links] end,
    Line = #{kind => fault_start, time_us => Start, fault => Id, number => N,
             shape => shape(Step), drop_sets => DropSets, requested_ms => Ms,
             requested => requested(Step, Ms), window_class => class(Ms, S),
             effective_groups => Effective, links_cut => Pairs(Cut), links_one_way => Pairs(OneWay),
             links_up => Pairs(Up), loss => maps:get(loss, Fault, 1.0)},
    Sized = case Fault of   % drawn from a call-timeout class: which, and by what timeout
                #{call_class := Class, call_timeout_ms := C} -> Line#{call_class => Class, call_timeout_ms => C};
                _ -> Line
            end,
    Named = case Step of
                {pause, Node, _} -> Sized#{node => Node};
                {stress, Node, Opts} -> Sized#{node => Node, hogs => maps:get(hogs, Opts, 2)};
                {kill_process, Node, {Kind, Name}, _} ->
                    Sized#{node => Node, target => target_kind(Kind), Kind => Name};
                {kill_node, Node, _} -> Sized#{node => Node, restart_after_ms =>
                                                   case maps:get(restart_after_ms, Fault, undefined) of
                                                       undefined -> null;
                                                       R -> R
                                                   end};
                _ -> Sized
            end,
    case groups(Step, DropSets, Nodes) of
        none -> Named;
        Groups -> Named#{groups => Groups}
    end.

%% The nodes of the topology (the workload's and those the fault names) and the drop sets whose
%% effect on the links is the fault's. A paused node drops nothing, but it neither sends nor
%% reads: to distribution it is cut off from every other node, both ways.
cuts({kill_node, Node, Opts}, DropSets, WorkloadNodes) ->
    cuts({pause, Node, Opts}, DropSets, WorkloadNodes);
cuts({pause, Node, _}, _, WorkloadNodes) ->
    Nodes = lists:usort([Node | WorkloadNodes]),
    Others = Nodes -- [Node],
    {Nodes, [{Node, Others} | [{O, [Node]} || O <- Others]]};
cuts({kill_process, Node, _, _}, _, WorkloadNodes) ->  % nothing is cut
    {lists:usort([Node | WorkloadNodes]), []};
cuts({stress, Node, _}, _, WorkloadNodes) ->
    {lists:usort([Node | WorkloadNodes]), []};   % a busy node drops nothing and stops nothing
cuts(_, DropSets, WorkloadNodes) ->
    Involved = lists:append([[Node | Peers] || {Node, Peers} <- maps:to_list(DropSets)]),
    {lists:usort(WorkloadNodes ++ Involved), maps:to_list(DropSets)}.

shape({split, _, _}) -> groups;
shape({isolate, _, _}) -> isolate;
shape({one_way, _, _, _}) -> one_way;
shape({pause, _, _}) -> pause;
shape({kill_node, _, _}) -> kill_node;
shape({kill_process, _, _, _}) -> kill_process;
shape({stress, _, _}) -> stress.

%% As the agent's events name it.
target_kind(name) -> name;
target_kind(supervisor) -> child_of.

groups({split, Groups, _}, _, _) -> Groups;
groups({isolate, Node, _}, DropSets, _) -> [[Node], maps:get(Node, DropSets, [])];
groups({one_way, _, _, _}, _, _) -> none;
groups({pause, Node, _}, _, Nodes) -> [[Node], Nodes -- [Node]];
groups({kill_node, Node, _}, _, Nodes) -> [[Node], Nodes -- [Node]];
groups({kill_process, _, _, _}, _, _) -> none;
groups({stress, _, _}, _, _) -> none.

requested(Step, Ms) ->
    case element(tuple_size(Step), Step) of
        #{duration := Class} -> Class;
        _ -> iolist_to_binary([integer_to_list(Ms), "ms"])
    end.

class(_, #{window := undefined}) -> <<>>;
class(Ms, #{window := W}) -> ticksplit_window:classify(Ms, W).

%%% Events

%% Handles events until the unix µs deadline or until Done(S).
follow(DeadlineUs, Done, S) ->
    case Done(S) orelse maps:get(skip, S) andalso not is_map_key(current, S) of
        true -> S;
        false ->
            Left = max(0, (DeadlineUs - erlang:system_time(microsecond) + 999) div 1000),
            receive
                {ticksplit_event, Agent, Event} -> follow(DeadlineUs, Done, event(Agent, Event, S));
                {?MODULE, skip_rest} -> follow(DeadlineUs, Done, S#{skip := true});
                {?MODULE, stop} -> follow(DeadlineUs, Done, S#{skip := true, stopping => true})
            after Left ->
                    S
            end
    end.

event(Agent, #{type := Type} = E, #{recorder := Rec} = S) when Type =:= nodeup; Type =:= nodedown ->
    Line = maps:merge(maps:with([time_us, observer, peer, node_type], E),
                      #{kind => Type, agent => Agent}),
    ok = ticksplit_ops:event(Rec, case E of
                                      #{reason := R} -> Line#{reason => reason(R)};
                                      _ -> Line
                                  end),
    S;
event(Agent, #{type := fault_healed, id := Id} = E, #{current := Id, healed := H} = S) ->
    End = case E of
              #{end_us := T} when is_integer(T) -> T;
              _ -> erlang:system_time(microsecond)
          end,
    Dropped = case E of
                  #{dropped_packets := D} when is_integer(D) -> D;
                  _ -> 0
              end,
    S#{healed := H#{Agent => {End, Dropped}}};
event(_Agent, #{type := pause_started, id := Id} = E, #{current := Id} = S) ->
    pause_times(E, S);
event(Agent, #{type := pause_ended, id := Id} = E, #{current := Id, healed := H, recorder := Rec} = S0) ->
    #{pause := P} = S = pause_times(E, S0),
    %% The node running again ends the pause; without a resume (it never stopped, or resuming
    %% failed) the agent's report does.
    End = case P of
              #{resumed_us := R} -> R;
              _ -> event_time(E)
          end,
    case E of
        #{error := Error} when is_binary(Error), Error =/= <<>> ->
            ok = ticksplit_ops:note(Rec, "nemesis: pause ~s of ~s at ~s: ~ts",
                                    [Id, maps:get(node, E, ''), Agent, Error]);
        _ -> ok
    end,
    S#{healed := H#{Agent => {End, 0}}};
event(_Agent, #{type := node_killed, id := Id} = E, #{current := Id} = S) ->
    kill_times(E, S);
event(Agent, #{type := kill_ended, id := Id} = E, #{current := Id, healed := H, recorder := Rec} = S0) ->
    #{pause := P} = S = kill_times(E, S0),
    %% The node started again ends the kill; without a restart the agent's report does.
    End = case P of
              #{started_us := St} -> St;
              _ -> event_time(E)
          end,
    case E of
        #{error := Error} when is_binary(Error), Error =/= <<>> ->
            ok = ticksplit_ops:note(Rec, "nemesis: kill_node ~s of ~s at ~s: ~ts",
                                    [Id, maps:get(node, E, ''), Agent, Error]);
        _ -> ok
    end,
    S#{healed := H#{Agent => {End, 0}}};
event(Agent, #{type := process_killed, id := Id} = E, #{current := Id, healed := H, recorder := Rec} = S) ->
    case E of
        #{error := Error} when is_binary(Error), Error =/= <<>> ->
            ok = ticksplit_ops:note(Rec, "nemesis: kill_process ~s on ~s at ~s: ~ts",
                                    [Id, maps:get(node, E, ''), Agent, Error]);
        _ -> ok
    end,
    Seen = maps:with([pid, killed_us, restarted, new_pid, restarted_us, error], E),
    S#{healed := H#{Agent => {event_time(E), 0}}, killed => Seen};
event(Agent, #{type := stress_ended, id := Id} = E, #{current := Id, healed := H, recorder := Rec} = S) ->
    %% The node's figures (docs/faults.md, "Stress"), null where it could not say.
    Keys = [started_us, ended_us, utilisation_before, utilisation_during, utilisation_after,
            normal_late_max_ms],
    Figures = maps:from_list([{K, case maps:get(K, E, undefined) of
                                      V when is_number(V) -> V;
                                      _ -> null
                                  end} || K <- Keys]),
    Rtt = fun(K) -> case maps:get(K, E, undefined) of
                        {Med, Max, N, Lost} -> #{median_ms => null_if_undefined(Med),
                                                 max_ms => null_if_undefined(Max), count => N, lost => Lost};
                        _ -> null
                    end
          end,
    case E of
        #{error := Error} when is_binary(Error), Error =/= <<>> ->
            ok = ticksplit_ops:note(Rec, "nemesis: stress ~s of ~s at ~s: ~ts",
                                    [Id, maps:get(node, E, ''), Agent, Error]);
        _ -> ok
    end,
    End = case Figures of
              #{ended_us := T} when is_integer(T) -> T;
              _ -> event_time(E)
          end,
    S#{healed := H#{Agent => {End, 0}},
       stress => Figures#{rtt_before_ms => Rtt(rtt_before_ms), rtt_during_ms => Rtt(rtt_during_ms)}};
event(_, _, S) ->
    S.

kill_times(E, #{pause := P} = S) ->
    Times = maps:filter(fun(_, T) -> is_integer(T) end,
                        maps:with([killed_us, exited_us, started_us, planned_restart_us], E)),
    S#{pause := maps:merge(P, Times)}.

null_if_undefined(undefined) -> null;
null_if_undefined(V) -> V.

%% The times a pause event gives (an agent sends undefined for those it cannot say).
pause_times(E, #{pause := P} = S) ->
    Times = maps:filter(fun(_, T) -> is_integer(T) end, maps:with([stopped_us, resumed_us, planned_end_us], E)),
    S#{pause := maps:merge(P, Times)}.

event_time(#{time_us := T}) when is_integer(T) -> T;
event_time(_) -> erlang:system_time(microsecond).

reason(R) when is_atom(R); is_binary(R) -> R;
reason(R) -> unicode:characters_to_binary(io_lib:format("~0tp", [R])).

deadline_us(Us) -> erlang:system_time(microsecond) + Us.
