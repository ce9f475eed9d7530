%% Partitions a real cluster through the ticksplit library and checks what distribution did.
%%
%% Needs the cluster of test/cluster.config with an agent on every host (`scripts/cluster up 3':
%% net_ticktime 2, so the detection window is {1500, 2500} ms) and must run on a hidden node
%% outside the cut hosts (the agents refuse to cut their requester); scripts/test runs it from
%% the cluster's control namespace through tests/integration/erlang_ct.escript.
-module(ticksplit_SUITE).
-include_lib("common_test/include/ct.hrl").
-import(ticksplit_ct_lib, [mesh/1, await/2]).

-export([suite/0, all/0, init_per_suite/1, end_per_suite/1, init_per_testcase/2,
         end_per_testcase/2]).
-export([window_and_status/1, below_window_survives/1, isolate_nodedown_then_heal/1,
         one_way_drops_one_direction/1, refusal_heals_the_armed/1, unreachable_agent_arms_nothing/1,
         heal_all_ends_everything/1, pause_above_window/1, kill_node_restarts/1,
         kill_process_restarted/1, stress_starves_without_nodedown/1]).

-define(WINDOW, {1500, 2500}).

suite() -> [{require, nodes}, {timetrap, {seconds, 60}}].

all() ->
    [window_and_status, below_window_survives, isolate_nodedown_then_heal,
     one_way_drops_one_direction, refusal_heals_the_armed, unreachable_agent_arms_nothing,
     heal_all_ends_everything, pause_above_window, kill_node_restarts, kill_process_restarted,
     stress_starves_without_nodedown].

init_per_suite(Config) ->
    Nodes = ct:get_config(nodes),
    [pong = net_adm:ping(N) || N <- Nodes],
    [{nodes, Nodes} | Config].

end_per_suite(_Config) -> ok.

%% Every case starts from a full mesh, no fault on any agent and no stale event.
init_per_testcase(_Case, Config) ->
    Nodes = ?config(nodes, Config),
    mesh(Nodes),
    await(fun() -> lists:all(fun(N) -> faults(N) =:= [] end, Nodes) end, no_faults_left),
    flush(),
    ok = ticksplit:subscribe(Nodes),
    Config.

end_per_testcase(_Case, Config) ->
    Nodes = ?config(nodes, Config),
    application:unset_env(ticksplit, agents),
    ok = ticksplit:heal_all(Nodes),
    ok = ticksplit:unsubscribe(Nodes),
    mesh(Nodes).

%%% Cases

window_and_status(Config) ->
    [A | _] = ?config(nodes, Config),
    Agent = ticksplit:agent_of(A),
    {ok, ?WINDOW} = ticksplit:window(A),
    {ok, #{agent := Agent, backend := tc_bpf, nodes := [#{node := A, connected := true}]}} =
        ticksplit:status(A),
    {ok, #{agent := Agent}} = ticksplit:status(Agent).

%% A drop well below the window: a message sent across the cut arrives late, nobody sees
%% nodedown, and the kernel dropped packets.
below_window_survives(Config) ->
    [A, B, C] = ?config(nodes, Config),
    {ok, #{id := Id, kind := partition, duration_ms := 400, agents := Agents, start_at_us := Start}} =
        ticksplit:split([[A], [B, C]], #{duration => "0.2T"}),   % T = 2 s: 400 ms
    below_window = ticksplit_window:classify(400, ?WINDOW),
    3 = length(Agents),
    {Started, Seen0} = await_events(fun(E) -> is_fault(fault_started, Id, E) end, 3, 2000),
    %% one window on every agent: the requested start, 400 ms long (the agents convert
    %% between unix and monotonic time, so both may be off by a rounding microsecond)
    [true = abs(S - Start) =< 1 andalso abs(E - S - 400000) =< 1
     || {_, #{start_us := S, end_us := E}} <- Started],
    Ping = rpc:async_call(B, net_adm, ping, [A]),   % inside the window: B -> A is dropped
    {Recovered, Seen1} = await_events(fun(E) -> is_fault(fault_recovered, Id, E) end, 3, 10000),
    pong = rpc:yield(Ping),
    Seen = Seen0 ++ Seen1,
    [] = [E || {_, #{type := nodedown} = E} <- Seen],
    Healed = [E || {_, #{type := fault_healed, id := I} = E} <- Seen, I =:= Id],
    3 = length(Healed),
    [deadline] = lists:usort([R || #{reason := R} <- Healed]),
    {_, #{dropped_packets := Dropped}} = lists:keyfind(ticksplit:agent_of(A), 1,
                                                       [{Ag, E} || {Ag, #{type := fault_healed} = E} <- Seen]),
    true = Dropped > 0,
    Outages = [O div 1000 || {_, #{effective_outage_us := O, recovered := true}} <- Recovered],
    3 = length(Outages),
    true = lists:max(Outages) < element(1, ?WINDOW),
    figure("below_window: 400 ms drop, ~b packets dropped at ~s, effective outages ~w ms, no nodedown",
           [Dropped, ticksplit:agent_of(A), Outages]).

%% Isolating a node for longer than the window: the others see it go by net_tick_timeout
%% inside the window; after ticksplit:heal/1 the nodes reconnect at once.
isolate_nodedown_then_heal(Config) ->
    [A, B, C] = ?config(nodes, Config),
    {ok, #{id := Id, start_at_us := Start} = Fault} = ticksplit:isolate(C, #{duration_ms => 30000}),
    3 = length(maps:get(agents, Fault)),
    {Downs, _} = await_events(fun(#{type := nodedown, peer := P, observer := O}) ->
                                      P =:= C andalso (O =:= A orelse O =:= B);
                                 (_) -> false
                              end, 2, 8000),
    Delays = [(T - Start) div 1000 || {_, #{time_us := T}} <- Downs],
    [net_tick_timeout] = lists:usort([R || {_, #{reason := R}} <- Downs]),
    %% inside the window {1500, 2500}; an event's time is when the agent heard of it, so the
    %% watcher's forwarding on a busy host comes on top (up to 150 ms allowed)
    [] = [D || D <- Delays, D < 1500 orelse D > 2650],
    Reconnect = heal_and_reconnect(Fault, [{A, C}, {B, C}]),
    {Healed, _} = await_events(fun(E) -> is_fault(fault_healed, Id, E) end, 3, 2000),
    [request] = lists:usort([R || {_, #{reason := R}} <- Healed]),
    [true = N > 0 || {_, #{dropped_packets := N}} <- Healed],
    figure("isolate: nodedown of ~s after ~w ms (window ~w); reconnected ~.2f ms after heal",
           [C, Delays, ?WINDOW, Reconnect]).

%% B drops what A sends, so B can only time A out (even A's FIN is dropped). A is not cut, but
%% its link to B goes down too: distribution runs over TCP, and with A's ACKs dropped at B,
%% B's data stops reaching A after retransmission backoff (measured: a one-way cut on TCP ends
%% as a two-way outage). A sees B go by its own tick timeout or when B closes the connection,
%% whichever comes first: the tick timers' phases decide, so either is right.
one_way_drops_one_direction(Config) ->
    [A, B, _] = ?config(nodes, Config),
    AgentB = ticksplit:agent_of(B),
    {ok, #{agents := [AgentB]} = Fault} = ticksplit:one_way(A, B, #{duration_ms => 30000}),
    {[{_, #{reason := net_tick_timeout}}], Seen} =
        await_events(fun(#{type := nodedown, observer := O, peer := P}) -> O =:= B andalso P =:= A;
                        (_) -> false
                     end, 1, 8000),
    [true = lists:member(R, [net_tick_timeout, connection_closed])
     || {_, #{type := nodedown, observer := O, reason := R}} <- Seen, O =:= A],
    Reconnect = heal_and_reconnect(Fault, [{B, A}], 4000),
    figure("one_way: ~s timed ~s out; reconnected ~.2f ms after heal", [B, A, Reconnect]).

%% The third agent refuses (another fault there holds the id): the two armed ones are healed,
%% the error names the third, and its own fault is left alone.
refusal_heals_the_armed(Config) ->
    [A, B, C] = ?config(nodes, Config),
    [AgentA, AgentB, AgentC] = [ticksplit:agent_of(N) || N <- [A, B, C]],
    Id = <<"ct-duplicate">>,
    {ok, Id} = gen_server:call({ticksplit, AgentC},
                               {partition, #{peers => [A], duration_ms => 20000, id => Id}}),
    {error, {refused, AgentC, {duplicate_id, Id}}} =
        ticksplit:split([[A], [B, C]], #{duration_ms => 20000, id => Id}),
    {Healed, _} = await_events(fun(#{type := fault_healed, id := I, reason := request}) -> I =:= Id;
                                  (_) -> false
                               end, 2, 2000),
    [AgentA, AgentB] = lists:sort([Ag || {Ag, _} <- Healed]),
    [#{id := Id, state := active}] = faults(C),
    [] = [F || #{state := S} = F <- faults(A) ++ faults(B), S =/= recovering],
    ok = gen_server:call({ticksplit, AgentC}, {heal, Id}).

%% An agent that cannot be reached is named, and no other agent is armed.
unreachable_agent_arms_nothing(Config) ->
    [A, B, C] = ?config(nodes, Config),
    Missing = list_to_atom("nosuch@" ++ lists:last(string:split(atom_to_list(C), "@"))),
    application:set_env(ticksplit, agents, #{C => Missing}),
    {error, {unreachable, Missing, noconnection}} =
        ticksplit:split([[A], [B, C]], #{duration_ms => 20000}),
    application:unset_env(ticksplit, agents),
    [] = faults(A) ++ faults(B),
    none = receive {ticksplit_event, _, #{type := fault_started} = E} -> E after 200 -> none end.

%% heal_all ends every fault on the agents of the nodes, whoever armed it.
heal_all_ends_everything(Config) ->
    [A, B, C] = Nodes = ?config(nodes, Config),
    {ok, #{id := Id1}} = ticksplit:isolate(C, #{duration_ms => 30000, nodes => Nodes}),
    {ok, #{id := Id2}} = ticksplit:one_way(A, B, #{duration_ms => 30000}),
    await_events(fun(E) -> is_fault(fault_started, Id1, E) orelse is_fault(fault_started, Id2, E) end,
                 4, 2000),
    ok = ticksplit:heal_all(Nodes),
    {Healed, _} = await_events(fun(#{type := fault_healed}) -> true; (_) -> false end, 4, 2000),
    [heal_all] = lists:usort([R || {_, #{reason := R}} <- Healed]),
    [Id1, Id2] = lists:usort([I || {_, #{id := I}} <- Healed]),
    [] = [F || N <- Nodes, #{state := S} = F <- faults(N), S =/= recovering].

%% Pausing a node above the window: its agent stops it at the start, the others time it out
%% (net_tick_timeout, inside the window counted from the stop), the agent resumes it at the
%% deadline by itself, and it answers again.
pause_above_window(Config) ->
    [A, B, C] = ?config(nodes, Config),
    AgentC = ticksplit:agent_of(C),
    {ok, #{id := Id, kind := pause, agents := [AgentC], node := C, drops := [], start_at_us := Start,
           duration_ms := Ms}} = ticksplit:pause(C, #{duration => above_window}),
    above_window = ticksplit_window:classify(Ms, ?WINDOW),
    {[{AgentC, #{node := C, stopped_us := Stopped, planned_end_us := PlannedEnd}}], _} =
        await_events(fun(E) -> is_fault(pause_started, Id, E) end, 1, 2000),
    %% the requested window (the agent converts between unix and monotonic time: a rounding µs)
    true = abs(PlannedEnd - (Start + Ms * 1000)) =< 1,
    {Downs, _} = await_events(fun(#{type := nodedown, peer := P, observer := O}) ->
                                      P =:= C andalso (O =:= A orelse O =:= B);
                                 (_) -> false
                              end, 2, 8000),
    [net_tick_timeout] = lists:usort([R || {_, #{reason := R}} <- Downs]),
    Delays = [(T - Stopped) div 1000 || {_, #{time_us := T}} <- Downs],
    %% inside the window {1500, 2500}; an event's time is when the agent heard of it, so the
    %% watcher's forwarding on a busy host comes on top (up to 150 ms allowed)
    [] = [D || D <- Delays, D < 1500 orelse D > 2650],
    {[{AgentC, #{reason := deadline, started := true, resumed_us := Resumed, error := <<>>}}], _} =
        await_events(fun(E) -> is_fault(pause_ended, Id, E) end, 1, Ms + 2000),
    %% resumed by the agent's guard at the deadline: no later than the 5 ms the agent's own
    %% cluster case allows (tests/integration/partition_cases.escript, pause_above)
    Late = Resumed - PlannedEnd,
    true = Late >= -1 andalso Late =< 5000,
    await(fun() -> rpc:call(A, net_adm, ping, [C]) =:= pong end, {reconnected, A, C}),
    Reconnect = (os:system_time(microsecond) - Resumed) / 1000,
    pong = net_adm:ping(C),
    await(fun() -> faults(C) =:= [] end, pause_left_the_ledger),
    figure("pause: ~s stopped ~.2f ms after the start for ~w ms; nodedown of it after ~w ms (window ~w); "
           "resumed ~.2f ms after the deadline; ~s pinged it ~.1f ms after",
           [C, (Stopped - Start) / 1000, Ms, Delays, ?WINDOW, Late / 1000, A, Reconnect]).

%% Killing a node with a restart: its agent SIGKILLs it at the start (both others see it go at
%% once: its connections close), its guard starts it again by the agent's --node-start command
%% (scripts/cluster gives one) 2 s after the kill, and the new process answers under the same name.
kill_node_restarts(Config) ->
    [A, B, C] = ?config(nodes, Config),
    AgentC = ticksplit:agent_of(C),
    OldPid = rpc:call(C, os, getpid, []),
    %% both others connected to C (the pause before may have left a link down)
    await(fun() -> [pong, pong] =:= [rpc:call(X, net_adm, ping, [C]) || X <- [A, B]] end, {meshed, C}),
    flush(),
    {ok, #{id := Id, kind := kill_node, agents := [AgentC], node := C, drops := [], start_at_us := Start,
           restart_after_ms := 2000, duration_ms := 2000}} = ticksplit:kill_node(C, #{restart_after_ms => 2000}),
    %% node_killed comes once the guard saw the exit, which may be after the others' nodedowns
    IsDown = fun(#{type := nodedown, peer := P, observer := O}) -> P =:= C andalso (O =:= A orelse O =:= B);
                (_) -> false
             end,
    {[{AgentC, #{killed_us := Killed, exited_us := Exited, planned_restart_us := Planned}}], Before} =
        await_events(fun(E) -> is_fault(node_killed, Id, E) end, 1, 3000),
    Planned = Start + 2000000,
    Early = [X || {_, E} = X <- Before, IsDown(E)],
    {Late, _} = await_events(IsDown, 2 - length(Early), 3000),
    Downs = Early ++ Late,
    DownAfter = [(T - Killed) / 1000 || {_, #{time_us := T}} <- Downs],
    {[{AgentC, #{reason := deadline, killed := true, started_us := Started, error := <<>>}}], _} =
        await_events(fun(E) -> is_fault(kill_ended, Id, E) end, 1, 5000),
    true = Killed >= Start andalso Killed - Start =< 5000,
    true = Started >= Planned andalso Started - Planned =< 5000,
    await(fun() -> rpc:call(A, net_adm, ping, [C]) =:= pong end, {rejoined, A, C}),
    Up = (os:system_time(microsecond) - Started) / 1000,
    NewPid = rpc:call(C, os, getpid, []),
    true = is_list(NewPid) andalso NewPid =/= OldPid,
    await(fun() -> faults(C) =:= [] end, kill_left_the_status),
    %% its agent has joined the new process (what the next case's stress of C needs)
    await(fun() -> {ok, #{nodes := Ns}} = ticksplit:status(C), Ns =/= [] andalso
                       lists:all(fun(#{connected := Joined}) -> Joined end, Ns) end, {agent_joined, C}),
    figure("kill_node: ~s killed ~.2f ms after the start, exited ~.2f ms later; seen down after ~p ms; "
           "started again ~.2f ms after the planned restart; ~s pinged it ~.1f ms after the start",
           [C, (Killed - Start) / 1000, (Exited - Killed) / 1000, DownAfter, (Started - Planned) / 1000, A, Up]).

%% Killing a supervised worker by name: the node's watcher kills it at the start and sees its
%% supervisor restart it under the same name; the event's pids are the node's. (OTP's own
%% workers will not do: timer_server and inet_gethost_native are temporary children, and a
%% permanent child of kernel_sup takes the node down.) A name nobody has is the event's error,
%% not a refusal.
kill_process_restarted(Config) ->
    [_A, B, _C] = ?config(nodes, Config),
    {ok, _} = load_supervisor(B),
    Old = rpc:call(B, erlang, whereis, [ts_ct_worker]),
    true = is_pid(Old),
    AgentB = ticksplit:agent_of(B),
    {ok, #{id := Id, kind := kill_process, agents := [AgentB], node := B, start_at_us := Start,
           duration_ms := 1000, target := {name, ts_ct_worker}}} =
        ticksplit:kill_process(B, {name, ts_ct_worker}, #{}),
    {[{AgentB, #{node := B, pid := Pid, killed_us := Killed, restarted := true, new_pid := NewPid,
                 restarted_us := Restarted, error := <<>>}}], _} =
        await_events(fun(E) -> is_fault(process_killed, Id, E) end, 1, 8000),
    New = rpc:call(B, erlang, whereis, [ts_ct_worker]),
    Pid = list_to_binary(rpc:call(B, erlang, pid_to_list, [Old])),
    NewPid = list_to_binary(rpc:call(B, erlang, pid_to_list, [New])),
    false = rpc:call(B, erlang, is_process_alive, [Old]),
    true = Killed >= Start,
    ok = ticksplit:heal(#{id => Id, agents => [AgentB]}),   % nothing to heal: ok
    {ok, #{id := Id2}} = ticksplit:kill_process(B, {name, ts_no_such_process}, #{restart_window_ms => 10}),
    {[{AgentB, #{error := <<"no process is registered as ts_no_such_process">>, killed_us := undefined}}], _} =
        await_events(fun(E) -> is_fault(process_killed, Id2, E) end, 1, 8000),
    exit(rpc:call(B, erlang, whereis, [ts_ct_sup]), kill),
    figure("kill_process: ts_ct_worker on ~s killed ~.2f ms after the start, restarted ~.2f ms later",
           [B, (Killed - Start) / 1000, (Restarted - Killed) / 1000]).

%% A one_for_one supervisor ts_ct_sup with one worker registered as ts_ct_worker, compiled
%% here and loaded on Node (which has only OTP), unlinked from the rpc that starts it.
load_supervisor(Node) ->
    Src = ["-module(ts_ct_sup).",
           "-export([start/0, init/1, worker/0]).",
           "start() -> group_leader(whereis(user), self()),"
           "  {ok, P} = supervisor:start_link({local, ts_ct_sup}, ts_ct_sup, []), unlink(P), {ok, P}.",
           "init([]) -> {ok, {#{strategy => one_for_one, intensity => 10, period => 1},"
           "  [#{id => worker, start => {ts_ct_sup, worker, []}}]}}.",
           "worker() -> P = spawn_link(fun() -> receive stop -> ok end end), register(ts_ct_worker, P), {ok, P}."],
    Forms = [begin {ok, T, _} = erl_scan:string(F), {ok, Form} = erl_parse:parse_form(T), Form end || F <- Src],
    {ok, ts_ct_sup, Bin} = compile:forms(Forms, [binary]),
    _ = rpc:call(Node, code, purge, [ts_ct_sup]),
    {module, ts_ct_sup} = rpc:call(Node, code, load_binary, [ts_ct_sup, "ts_ct_sup.erl", Bin]),
    case rpc:call(Node, erlang, whereis, [ts_ct_sup]) of
        undefined -> ok;
        Running -> exit(Running, kill), await(fun() -> rpc:call(Node, erlang, whereis, [ts_ct_sup]) =:= undefined end, old_sup_gone)
    end,
    rpc:call(Node, ts_ct_sup, start, []).

%% Stressing a node for 1.5 s: its schedulers busy in the window and idle after it, normal
%% priority starved (a normal-priority process woke most of the window late), distribution
%% still up (no nodedown of it), the hogs gone, the node answering again.
stress_starves_without_nodedown(Config) ->
    [A, B, C] = ?config(nodes, Config),
    AgentC = ticksplit:agent_of(C),
    {ok, #{id := Id, kind := stress, agents := [AgentC], node := C, hogs := 2, drops := []}} =
        ticksplit:stress(C, #{duration_ms => 1500}),
    {[{AgentC, #{processes := N}}], _} = await_events(fun(E) -> is_fault(stress_started, Id, E) end, 1, 2000),
    {[{AgentC, #{reason := deadline, started := true, error := <<>>, utilisation_during := UD,
                 utilisation_after := UA, normal_late_max_ms := Late,
                 rtt_during_ms := {Med, Max, Count, _Lost}}}], Others} =
        await_events(fun(E) -> is_fault(stress_ended, Id, E) end, 1, 8000),
    true = UD > 0.9,
    true = UA < 0.5,
    true = Late > 750.0,
    [] = [E || {_, #{type := nodedown, peer := P} = E} <- Others, P =:= C],
    pong = net_adm:ping(C),
    pong = rpc:call(A, net_adm, ping, [C]),
    pong = rpc:call(B, net_adm, ping, [C]),
    figure("stress: ~s with ~w hogs for 1500 ms: utilisation ~.3f during, ~.3f after; normal priority up to "
           "~.1f ms late; probe round trips median ~w ms, max ~w ms (~w)", [C, N, UD, UA, Late, Med, Max, Count]).

%%% Helpers

%% A measured figure: in the CT log and on the console, and, when scripts/test collects
%% benchmark figures (TICKSPLIT_BENCH_DIR), in erlang_ct.txt there.
figure(Format, Args) ->
    ct:pal(Format, Args),
    case os:getenv("TICKSPLIT_BENCH_DIR") of
        false -> ok;
        Dir ->
            ok = filelib:ensure_path(Dir),
            ok = file:write_file(filename:join(Dir, "erlang_ct.txt"),
                                 ["erlang_ct ", io_lib:format(Format, Args), "\n"], [append])
    end.

%% Heals through the library, then asks each pair to connect; returns the milliseconds from
%% the heal call until the last pair is connected again, which must be under 1 s.
heal_and_reconnect(Fault, Pairs) -> heal_and_reconnect(Fault, Pairs, 1000).

%% After a one-way cut the side that was not cut may still hold its old connection (its peer's
%% ticks kept arriving; its own sends wait in TCP backoff) and turn the first attempts down, or
%% hold them until that connection is torn down: up to its tick timeout, 2 x net_ticktime
%% here. Attempts repeat until the pair connects, within LimitMs.
heal_and_reconnect(Fault, Pairs, LimitMs) ->
    T0 = erlang:monotonic_time(microsecond),
    ok = ticksplit:heal(Fault),
    [connect_within(X, Y, T0 + LimitMs * 1000) || {X, Y} <- Pairs],
    Ms = (erlang:monotonic_time(microsecond) - T0) / 1000,
    true = Ms < LimitMs,
    Ms.

connect_within(X, Y, DeadlineUs) ->
    case rpc:call(X, net_kernel, connect_node, [Y]) of
        true -> ok;
        Other ->
            case erlang:monotonic_time(microsecond) < DeadlineUs of
                true -> timer:sleep(20), connect_within(X, Y, DeadlineUs);
                false -> error({not_reconnected, X, Y, Other})
            end
    end.

is_fault(Type, Id, #{type := Type, id := Id}) -> true;
is_fault(_, _, _) -> false.

%% Receives events until N match Pred; returns {Matching, EverythingSeen} as {Agent, Event}.
await_events(Pred, N, TimeoutMs) ->
    Deadline = erlang:monotonic_time(millisecond) + TimeoutMs,
    await_events(Pred, N, Deadline, [], []).

await_events(_, 0, _, Match, Seen) ->
    {lists:reverse(Match), lists:reverse(Seen)};
await_events(Pred, N, Deadline, Match, Seen) ->
    Left = max(0, Deadline - erlang:monotonic_time(millisecond)),
    receive
        {ticksplit_event, Agent, Event} ->
            case Pred(Event) of
                true -> await_events(Pred, N - 1, Deadline, [{Agent, Event} | Match], [{Agent, Event} | Seen]);
                false -> await_events(Pred, N, Deadline, Match, [{Agent, Event} | Seen])
            end
    after Left ->
            ct:fail({events_missing, N, lists:reverse(Match), lists:reverse(Seen)})
    end.

faults(Node) ->
    {ok, #{faults := Faults}} = ticksplit:status(Node),
    Faults.

flush() ->
    receive {ticksplit_event, _, _} -> flush() after 0 -> ok end.
