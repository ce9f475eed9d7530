%% @doc Runs on a BEAM node that a ticksplit agent has joined; the agent ships this module
%% with code:load_binary/3 (nothing is installed on the node) and starts it over RPC.
%%
%% The watcher subscribes to net_kernel:monitor_nodes/2 (all node types, with the nodedown
%% reason) and forwards every nodeup/nodedown to the agent's registered process as
%%   {ticksplit_watcher, ObserverNode, nodeup | nodedown, Peer, Info}.
%%
%% It also installs an OTP logger handler (same name as the watcher) that forwards the node's
%% log events at or above a level (the agent's `--log-level', default notice) as
%%   {ticksplit_watcher, ObserverNode, log, Level, [{time_us, T}, {text, Text}, {dropped, N}]}
%% (Text: the formatted message, one line, at most ?MAX_TEXT bytes; at most ?PER_SECOND events
%% a second, N counting those dropped since the last one sent). A handler runs in the process
%% that logs, so it never blocks it: the send is `nosuspend, noconnect' (an event the
%% connection cannot take now is counted as dropped). The handler is removed when the watcher
%% stops or its agent disconnects.
%%
%% There is at most one watcher per agent on a node, registered under a name derived from
%% the agent's node name: start/2 replaces a running one, so a restarted agent never gets
%% duplicate events, and two agents on one node do not disturb each other. The watcher exits
%% when its agent disconnects; the agent ships and starts a fresh one when it joins again.
%%
%% Commands (docs/protocol.md, "The watcher channel"): the agent sends the watcher's pid
%%   {ticksplit_agent, Command}, Command = {Name, Id :: binary(), ...}
%% and the watcher schedules it at its planned instant (StartAtUs, unix microseconds: the agent
%% runs on the same host, so os:system_time/1 is its clock) with a timer of its own; when the
%% timer fires the work runs in a process of its own, so the watcher's loop never waits on it.
%% What came of it goes back as
%%   {ticksplit_watcher, ObserverNode, fault, Kind, Id, Props :: [{atom(), term()}]}
%% (Kind: process_killed; rejected for a command this watcher does not know or that is
%% malformed, with an `error' prop). A command still waiting for its instant is dropped when the
%% watcher exits (its agent disconnected): the agent reports it from its side.
-module(ticksplit_watcher).

-export([start/2, start/3, stop/1, name/1, init/4]).
-export([log/2]).  % the logger handler callback
-export([kill_process/2, loop/2]).  % a kill_process's work, and the loop, for tests
-export([stress/5, stress_sampler/6, stress_hog/2, stress_prober/3, stress_sleeper/2]).  % stress, below

%% What one forwarded log event may carry, and how many a second (the rest are counted).
-define(MAX_TEXT, 1024).
-define(PER_SECOND, 50).
%% A kill_process's supervisor is asked for its children with this timeout (a process that is
%% not a supervisor may never answer), and its restart is looked for this often.
-define(WHICH_CHILDREN_TIMEOUT_MS, 1000).
-define(POLL_MS, 1).
-define(MAX_TERM_TEXT, 256).

%% @doc Starts the watcher for the agent (replacing a running one) and returns
%% `{ok, WatcherPid, NetTicktimeSeconds, NetTickIntensity, OsPid}' (OsPid: this node's
%% emulator process, which the agent pauses and kills).
%% No log forwarding.
-spec start(node(), atom()) -> {ok, pid(), pos_integer(), pos_integer(), pos_integer()}.
start(AgentNode, AgentName) ->
    start(AgentNode, AgentName, none).

%% @doc As start/2, forwarding log events at or above `LogLevel' (a logger level, or `none').
-spec start(node(), atom(), logger:level() | none) -> {ok, pid(), pos_integer(), pos_integer(), pos_integer()}.
start(AgentNode, AgentName, LogLevel) when is_atom(AgentNode), is_atom(AgentName), is_atom(LogLevel) ->
    stop(AgentNode),
    Caller = self(),
    Pid = spawn(?MODULE, init, [Caller, AgentNode, AgentName, LogLevel]),
    Ref = erlang:monitor(process, Pid),
    receive
        {Pid, ready} ->
            erlang:demonitor(Ref, [flush]),
            {ok, Pid, ticktime_seconds(), tick_intensity(), list_to_integer(os:getpid())};
        {'DOWN', Ref, process, Pid, Reason} ->
            error({watcher_failed, Reason})
    after 5000 ->
            exit(Pid, kill),
            error(watcher_start_timeout)
    end.

%% @doc The registered name of the watcher serving AgentNode.
-spec name(node()) -> atom().
name(AgentNode) ->
    list_to_atom("ticksplit_watcher:" ++ atom_to_list(AgentNode)).

%% @doc Stops AgentNode's running watcher, if any, and waits until it is gone.
-spec stop(node()) -> ok.
stop(AgentNode) ->
    case whereis(name(AgentNode)) of
        undefined ->
            ok;
        Old ->
            Ref = erlang:monitor(process, Old),
            exit(Old, kill),
            receive {'DOWN', Ref, process, Old, _} -> ok end
    end,
    _ = logger:remove_handler(name(AgentNode)),  % a killed watcher could not remove its own
    ok.

%% @private The watcher process (exported for spawn/3).
-spec init(pid(), node(), atom(), logger:level() | none) -> ok.
init(Caller, AgentNode, AgentName, LogLevel) ->
    true = register(name(AgentNode), self()),
    ok = net_kernel:monitor_nodes(true, [nodedown_reason, {node_type, all}]),
    true = erlang:monitor_node(AgentNode, true),
    ok = add_log_handler(AgentNode, AgentName, LogLevel),
    Caller ! {self(), ready},
    loop(AgentNode, AgentName),
    _ = logger:remove_handler(name(AgentNode)),
    ok.

%% @private The watcher's loop (exported for tests, which run it without start/3).
-spec loop(node(), atom()) -> ok.
loop(AgentNode, AgentName) ->
    receive
        {nodedown, AgentNode} ->
            %% from monitor_node/2: our agent is gone
            ok;
        {nodedown, AgentNode, _Info} ->
            ok;
        {nodeup, AgentNode, _Info} ->
            loop(AgentNode, AgentName);
        {ticksplit_agent, Command} ->
            command(Command, {AgentName, AgentNode}),
            loop(AgentNode, AgentName);
        {timeout, _Ref, {ticksplit_run, Job}} ->
            %% a command's instant: its work in a process of its own
            To = {AgentName, AgentNode},
            _ = spawn(fun() -> run(Job, To) end),
            loop(AgentNode, AgentName);
        {Type, Peer, Info} when Type =:= nodeup; Type =:= nodedown ->
            %% noconnect: if the agent is unreachable the event is lost rather than
            %% blocking this process on a connection attempt.
            _ = erlang:send({AgentName, AgentNode},
                            {?MODULE, node(), Type, Peer, Info}, [noconnect]),
            loop(AgentNode, AgentName);
        _Other ->
            loop(AgentNode, AgentName)
    end.

%% One clause per command the agent sends; each checks its shape and schedules its job.
command({kill_process, Id, Target, StartAtUs, WindowMs}, To)
  when is_binary(Id), is_integer(StartAtUs), is_integer(WindowMs), WindowMs >= 0 ->
    case Target of
        {name, Name} when is_atom(Name) -> at(StartAtUs, {kill_process, Id, Target, WindowMs});
        {child_of, Sup} when is_atom(Sup) -> at(StartAtUs, {kill_process, Id, Target, WindowMs});
        _ -> reject(To, kill_process, Id, <<"bad target">>)
    end;
command({stress, Id, StartAtUs, EndAtUs, Opts}, To)
  when is_binary(Id), is_integer(StartAtUs), is_integer(EndAtUs), is_map(Opts) ->
    %% The stress runs in processes of its own from now on (the sampler waits for the start):
    %% see the stress section below.
    case stress(To, Id, StartAtUs, EndAtUs, Opts) of
        {ok, _Sampler} -> ok;
        {error, Why} -> reject(To, stress, Id, text_of(Why))
    end;
command(Command, To) when is_tuple(Command), tuple_size(Command) >= 2,
                          is_atom(element(1, Command)), is_binary(element(2, Command)) ->
    reject(To, element(1, Command), element(2, Command), <<"unknown or malformed command">>);
command(_Command, _To) ->
    ok.  % no id to answer to: nothing the agent waits for

reject(To, Name, Id, Why) ->
    report(To, rejected, Id, [{command, Name}, {error, Why}]).

%% The job at StartAtUs (unix µs), to the millisecond: the timer fires no earlier, so the work
%% never runs before its instant.
at(StartAtUs, Job) ->
    DelayMs = max(0, ceil_div(StartAtUs - os:system_time(microsecond), 1000)),
    _ = erlang:start_timer(DelayMs, self(), {ticksplit_run, Job}),
    ok.

ceil_div(A, B) when A > 0 -> (A + B - 1) div B;
ceil_div(A, B) -> A div B.

run({kill_process, Id, Target, WindowMs}, To) ->
    Props = try kill_process(Target, WindowMs)
            catch C:R -> [{error, text_of({C, R})}]
            end,
    report(To, process_killed, Id, Props).

report(To, Kind, Id, Props) ->
    _ = erlang:send(To, {?MODULE, node(), fault, Kind, Id, Props}, [noconnect]),
    ok.

%% @doc Kills the target (exit(Pid, kill)) and watches for its restart for WindowMs: by name,
%% whereis/1 returns another pid; a supervisor's child, the same child id has another pid.
%% Returns the report's props: target, name or supervisor and child_id, pid, killed_us,
%% restarted, new_pid, restarted_us, error (`<<>>' when the kill was done).
-spec kill_process({name, atom()} | {child_of, atom()}, non_neg_integer()) -> [{atom(), term()}].
kill_process({name, Name}, WindowMs) ->
    Base = [{target, name}, {name, Name}],
    case whereis(Name) of
        undefined ->
            Base ++ not_killed(<<"no process is registered as ", (text_of(Name))/binary>>);
        Pid ->
            Base ++ kill_and_watch(Pid, WindowMs, fun() ->
                case whereis(Name) of
                    New when is_pid(New), New =/= Pid -> {ok, New};
                    _ -> none
                end
            end)
    end;
kill_process({child_of, Sup}, WindowMs) ->
    Base = [{target, child_of}, {supervisor, Sup}],
    case children(Sup) of
        {error, Why} ->
            Base ++ not_killed(Why);
        {ok, []} ->
            Base ++ not_killed(<<(text_of(Sup))/binary, " has no child with a pid">>);
        {ok, Running} ->
            {ChildId, Pid} = lists:nth(rand:uniform(length(Running)), Running),
            [{child_id, text_of(ChildId)} | Base] ++ kill_and_watch(Pid, WindowMs, fun() ->
                case children(Sup) of
                    {ok, Now} ->
                        case lists:keyfind(ChildId, 1, Now) of
                            {_, New} when New =/= Pid -> {ok, New};
                            _ -> none
                        end;
                    {error, _} -> none   % gone or busy: not restarted (yet)
                end
            end)
    end.

not_killed(Why) ->
    [{pid, undefined}, {killed_us, undefined}, {restarted, false}, {new_pid, undefined},
     {restarted_us, undefined}, {error, Why}].

%% killed_us is taken just before the signal: this process may be scheduled out inside exit/2
%% (seen: a restart that looked 0 µs long), so a time taken after it could come after the
%% restart itself. The restart's measured delay is therefore an upper bound.
kill_and_watch(Pid, WindowMs, Restarted) ->
    Killed = os:system_time(microsecond),
    true = exit(Pid, kill),
    Deadline = Killed + WindowMs * 1000,
    {NewPid, At} = watch(Restarted, Deadline),
    [{pid, text_of(Pid)}, {killed_us, Killed}, {restarted, NewPid =/= undefined},
     {new_pid, case NewPid of undefined -> undefined; _ -> text_of(NewPid) end},
     {restarted_us, At}, {error, <<>>}].

%% Polls Restarted every ?POLL_MS until it finds the new pid or Deadline (unix µs) passes.
watch(Restarted, Deadline) ->
    case Restarted() of
        {ok, New} ->
            {New, os:system_time(microsecond)};
        none ->
            case os:system_time(microsecond) >= Deadline of
                true -> {undefined, undefined};
                false -> timer:sleep(?POLL_MS), watch(Restarted, Deadline)
            end
    end.

%% A supervisor's children that have a pid, as [{ChildId, Pid}]; asked with a timeout
%% (supervisor:which_children/1 waits forever, and the name may not be a supervisor).
children(Sup) ->
    try gen_server:call(Sup, which_children, ?WHICH_CHILDREN_TIMEOUT_MS) of
        List when is_list(List) ->
            {ok, [{Id, Pid} || {Id, Pid, _Type, _Mods} <- List, is_pid(Pid)]};
        Other ->
            {error, <<(text_of(Sup))/binary, " is not a supervisor: which_children answered ",
                      (text_of(Other))/binary>>}
    catch
        exit:{noproc, _} ->
            {error, <<"no process is registered as ", (text_of(Sup))/binary>>};
        exit:{timeout, _} ->
            {error, <<(text_of(Sup))/binary, " did not answer which_children within ",
                      (integer_to_binary(?WHICH_CHILDREN_TIMEOUT_MS))/binary,
                      " ms (not a supervisor?)">>};
        C:R ->
            {error, <<"which_children of ", (text_of(Sup))/binary, " failed: ", (text_of({C, R}))/binary>>}
    end.

%% Any term as a short line of text (pids as <0.1.0>, atoms unquoted where they can be).
text_of(Pid) when is_pid(Pid) -> list_to_binary(pid_to_list(Pid));
text_of(Atom) when is_atom(Atom) -> atom_to_binary(Atom, utf8);
text_of(Term) ->
    Bin = unicode:characters_to_binary(io_lib:format("~0tp", [Term], [{chars_limit, ?MAX_TERM_TEXT}])),
    case byte_size(Bin) =< ?MAX_TERM_TEXT of
        true -> Bin;
        false -> cut(Bin, ?MAX_TERM_TEXT)
    end.

add_log_handler(_, _, none) ->
    ok;
add_log_handler(AgentNode, AgentName, Level) ->
    %% Counters shared by every process that logs: [second, sent this second, dropped].
    Counters = atomics:new(3, [{signed, true}]),
    logger:add_handler(name(AgentNode), ?MODULE,
                       #{level => Level,
                         config => #{to => {AgentName, AgentNode}, counters => Counters}}).

%% @private The logger handler: runs in the process that logs, so it must never block it.
-spec log(logger:log_event(), logger:handler_config()) -> ok.
log(Event, #{config := #{to := To, counters := C}}) ->
    try forward(Event, To, C)
    catch _:_ -> atomics:add(C, 3, 1)   % never crash the process that logs: count it
    end,
    ok.

forward(#{level := Level, meta := Meta} = Event, To, C) ->
    Second = erlang:monotonic_time(second),
    case atomics:get(C, 1) of
        Second -> ok;
        Old -> case atomics:compare_exchange(C, 1, Old, Second) of
                   ok -> atomics:put(C, 2, 0);
                   _ -> ok   % another process started this second
               end
    end,
    case atomics:add_get(C, 2, 1) > ?PER_SECOND of
        true ->
            atomics:add(C, 3, 1);
        false ->
            Dropped = atomics:exchange(C, 3, 0),
            Text = text(Event),
            Time = maps:get(time, Meta, os:system_time(microsecond)),
            Msg = {?MODULE, node(), log, Level, [{time_us, Time}, {text, Text}, {dropped, Dropped}]},
            case erlang:send(To, Msg, [nosuspend, noconnect]) of
                ok -> ok;
                _ -> atomics:add(C, 3, Dropped + 1)   % nosuspend or noconnect: not sent
            end
    end.

%% The message alone, on one line, cut to ?MAX_TEXT bytes (on a character boundary).
text(Event) ->
    Formatted = logger_formatter:format(Event, #{single_line => true, template => [msg],
                                                 chars_limit => ?MAX_TEXT, max_size => ?MAX_TEXT}),
    Bin = unicode:characters_to_binary(Formatted),
    case byte_size(Bin) =< ?MAX_TEXT of
        true -> Bin;
        false -> cut(Bin, ?MAX_TEXT)
    end.

cut(Bin, N) ->
    <<Head:N/binary, _/binary>> = Bin,
    case unicode:characters_to_binary(Head) of
        Valid when is_binary(Valid) -> Valid;
        _ -> cut(Bin, N - 1)
    end.

ticktime_seconds() ->
    case net_kernel:get_net_ticktime() of
        {ongoing_change_to, T} -> T;
        T when is_integer(T) -> T
    end.

tick_intensity() ->
    application:get_env(kernel, net_tickintensity, 4).

%%% --- stress ---------------------------------------------------------------------------
%%% A stress starves a node's schedulers for a window (docs/faults.md, "Stress"): at its
%%% start, Hogs x schedulers_online processes at `max' priority busy-loop and each exits by
%%% itself at the deadline (a monotonic-clock check in its loop), so the stress ends without
%%% the agent or the watcher. net_kernel, its ticker and the distribution connections run at
%%% `max' too: hogs at a lower priority would never delay them.
%%%
%%% A sampler (max priority, asleep but at the phase boundaries) measures scheduler
%%% utilisation (statistics(scheduler_wall_time), normal schedulers) before, during and after
%%% the window; a prober (max priority) sends a tiny erpc call to every connected visible peer
%%% every ?PROBE_EVERY_MS and times the round trip; a sleeper at `normal' priority (where the
%%% node's own processes run) wakes every ?SLEEP_MS and measures how late it woke. The sampler
%%% reports to `To' (the agent's
%%% registered name, noconnect) as
%%%   {ticksplit_watcher, Node, fault, stress_started | stress_ended, Id, Props}.


-define(HOGS_MAX, 16).
-define(STRESS_MAX_MS, 3600000).  % one hour: the agent's --max-fault bounds it further
-define(AFTER_MS, 500).           % the period after the window whose utilisation is reported
-define(PROBE_EVERY_MS, 100).
-define(PROBE_TIMEOUT_MS, 1000).
-define(PROBE_MAX_SAMPLES, 100000).
-define(SLEEP_MS, 10).
-define(STRESS_NAME, ticksplit_stress).
-define(HOG_CHECK_EVERY, 2000).   % loop turns between two looks at the clock (~20 us)

%% @doc Starts a stress of this node: returns at once with the sampler's pid, or refuses.
%% StartAtUs, EndAtUs: unix microseconds; Opts: #{hogs => 1..16}.
-spec stress(pid() | {atom(), node()}, binary(), integer(), integer(), map()) ->
          {ok, pid()} | {error, term()}.
stress(To, Id, StartAtUs, EndAtUs, Opts)
  when is_binary(Id), is_integer(StartAtUs), is_integer(EndAtUs), is_map(Opts) ->
    Hogs = maps:get(hogs, Opts, 2),
    case stress_check(Hogs, StartAtUs, EndAtUs) of
        ok ->
            Pid = spawn_opt(?MODULE, stress_sampler, [To, Id, StartAtUs, EndAtUs, Hogs, self()],
                            [{priority, max}]),
            {ok, Pid};
        Error ->
            Error
    end;
stress(_, _, _, _, _) ->
    {error, badarg}.

stress_check(Hogs, _, _) when not is_integer(Hogs); Hogs < 1; Hogs > ?HOGS_MAX ->
    {error, {bad_hogs, Hogs}};
stress_check(_, StartAtUs, EndAtUs) when EndAtUs =< StartAtUs; EndAtUs - StartAtUs > ?STRESS_MAX_MS * 1000 ->
    {error, bad_window};
stress_check(_, _, EndAtUs) ->
    case EndAtUs =< os:system_time(microsecond) of
        true -> {error, already_over};
        false -> ok
    end.

%% A unix time in microseconds as a deadline on the monotonic clock (the hogs' clock: it
%% does not jump with the wall clock).
mono_of(UnixUs) ->
    erlang:monotonic_time(microsecond) + (UnixUs - os:system_time(microsecond)).

%% @private The sampler: baseline until the start, the hogs, the window, the period after.
stress_sampler(To, Id, StartAtUs, EndAtUs, Hogs, _Watcher) ->
    Report = fun(Kind, Props) ->
                     _ = erlang:send(To, {?MODULE, node(), fault, Kind, Id, Props}, [noconnect]),
                     ok
             end,
    Common = [{node, node()}, {planned_end_us, EndAtUs}, {hogs, Hogs}],
    %% The name makes one stress at a time per node, and lets the agent stop it early without
    %% the watcher (a normal-priority process, starved while the hogs run).
    case catch register(?STRESS_NAME, self()) of
        true ->
            stress_run(Report, Common, Id, StartAtUs, EndAtUs, Hogs);
        _ ->
            Report(stress_ended, [{reason, deadline}, {started, false}, {error, <<"already stressed">>} | Common])
    end.

stress_run(Report, Common, Id, StartAtUs, EndAtUs, Hogs) ->
    %% The flag is counted per process that sets it (OTP 22+): ours goes when we do.
    _ = erlang:system_flag(scheduler_wall_time, true),
    S0 = sched_sample(),
    Prober = spawn_opt(?MODULE, stress_prober, [self(), EndAtUs, ?PROBE_EVERY_MS], [{priority, max}, link]),
    Sleeper = spawn_opt(?MODULE, stress_sleeper, [self(), mono_of(StartAtUs)], [{priority, normal}, link]),
    case wait_until(mono_of(StartAtUs), Id) of
        stop ->
            [begin unlink(P), exit(P, kill) end || P <- [Prober, Sleeper]],  % a normal exit would not end them
            _ = erlang:system_flag(scheduler_wall_time, false),
            Report(stress_ended, [{reason, request}, {started, false} | Common]);
        ok ->
            S1 = sched_sample(),
            EndMono = mono_of(EndAtUs),
            N = Hogs * erlang:system_info(schedulers_online),
            StartedUs = os:system_time(microsecond),
            Online = erlang:system_info(schedulers_online),
            Pids = [spawn_opt(?MODULE, stress_hog, [EndMono, (I rem Online) + 1], [{priority, max}, monitor])
                    || I <- lists:seq(0, N - 1)],
            Report(stress_started, [{started_us, StartedUs}, {processes, N} | Common]),
            Reason = case wait_until(EndMono, Id) of
                         ok -> deadline;
                         stop -> [exit(P, kill) || {P, _} <- Pids], request
                     end,
            S2 = sched_sample(),
            EndedUs = await_hogs(Pids),
            sleep_until(erlang:monotonic_time(microsecond) + ?AFTER_MS * 1000),
            S3 = sched_sample(),
            Prober ! {self(), stop},
            Rtts = receive {Prober, rtts, R} -> R after 2000 -> [] end,
            Sleeper ! {self(), stop},
            Late = receive {Sleeper, late, L} -> L after 2000 -> undefined end,
            _ = erlang:system_flag(scheduler_wall_time, false),
            Report(stress_ended,
                   [{reason, Reason}, {started, true}, {started_us, StartedUs}, {ended_us, EndedUs},
                    {processes, N},
                    {utilisation_before, utilisation(S0, S1)},
                    {utilisation_during, utilisation(S1, S2)},
                    {utilisation_after, utilisation(S2, S3)},
                    {normal_late_max_ms, Late}]
                   ++ rtt_props(Rtts, StartAtUs, EndAtUs) ++ Common)
    end.

%% Sleeps until a monotonic instant, or until the agent says to stop this stress early:
%% {ticksplit_agent, {stress_stop, Id}} sent to ?STRESS_NAME.
wait_until(Mono, Id) ->
    Ms = max(0, (Mono - erlang:monotonic_time(microsecond) + 999) div 1000),
    receive
        {ticksplit_agent, {stress_stop, Id}} -> stop
    after Ms -> ok
    end.

%% Waits for every hog's 'DOWN': the unix time the last one exited.
await_hogs([]) ->
    os:system_time(microsecond);
await_hogs([{Pid, Ref} | Rest]) ->
    receive {'DOWN', Ref, process, Pid, _} -> await_hogs(Rest) end.

sleep_until(Mono) ->
    case Mono - erlang:monotonic_time(microsecond) of
        Us when Us > 0 -> receive after (Us + 999) div 1000 -> ok end;
        _ -> ok
    end.

%% {monotonic us, [{SchedulerId, Active, Total}]} of the normal schedulers online.
sched_sample() ->
    Online = erlang:system_info(schedulers_online),
    All = case erlang:statistics(scheduler_wall_time) of undefined -> []; L -> L end,
    {erlang:monotonic_time(microsecond), [S || S = {Sid, _, _} <- All, Sid =< Online]}.

%% The share of wall time the schedulers were busy between two samples, or `undefined' if
%% less than 10 ms passed (a window that began as it was requested has no baseline).
utilisation({T0, A}, {T1, B}) when T1 - T0 >= 10000 ->
    {Active, Total} = lists:foldl(
                        fun({Sid, A1, T1s}, {Ac, To}) ->
                                case lists:keyfind(Sid, 1, A) of
                                    {Sid, A0, T0s} -> {Ac + (A1 - A0), To + (T1s - T0s)};
                                    false -> {Ac, To}
                                end
                        end, {0, 0}, B),
    case Total > 0 of
        true -> Active / Total;
        false -> undefined
    end;
utilisation(_, _) ->
    undefined.

%% @private A hog: busy at max priority until the deadline, then gone. Every function call
%% costs a reduction, so the scheduler still preempts it (and runs the other max-priority
%% processes in turn, and the ports).
%% Each hog is bound to one scheduler, Hogs to each: left to the load balancer, two hogs may
%% share a run queue for a while, and the other scheduler runs normal-priority work meanwhile.
%% (process_flag(scheduler, N) is not in OTP's documentation; where it fails the hog runs
%% unbound.)
stress_hog(EndMono, Scheduler) ->
    _ = (catch process_flag(scheduler, Scheduler)),
    hog(EndMono, 0).

hog(EndMono, N) when N < ?HOG_CHECK_EVERY ->
    hog(EndMono, N + 1);
hog(EndMono, _) ->
    case erlang:monotonic_time(microsecond) < EndMono of
        true -> hog(EndMono, 0);
        false -> ok
    end.

%% @private The sleeper: at normal priority, sleeps ?SLEEP_MS at a time from the window's
%% start on and keeps the largest delay past its timer (ms, a float), until the sampler's word.
stress_sleeper(Sampler, StartMono) ->
    sleeper_loop(Sampler, StartMono, 0).

%% Each wake-up is measured against the instant it was due, the first (the window's start)
%% included: a process starved from the start wakes only when the hogs are gone.
sleeper_loop(Sampler, Due, Max) ->
    receive
        {Sampler, stop} -> Sampler ! {self(), late, Max / 1000}
    after max(0, (Due - erlang:monotonic_time(microsecond) + 999) div 1000) ->
            Now = erlang:monotonic_time(microsecond),
            sleeper_loop(Sampler, Now + ?SLEEP_MS * 1000, max(Max, Now - Due))
    end.

%% @private The prober: every EveryMs, one erpc call to each connected visible peer, timed;
%% stops at the sampler's word (or with it: linked), giving back [{SentUnixUs, RttUs | lost}].
stress_prober(Sampler, _EndAtUs, EveryMs) ->
    probe_loop(Sampler, EveryMs, [], 0).

probe_loop(Sampler, EveryMs, Acc, Count) ->
    receive
        {Sampler, stop} -> Sampler ! {self(), rtts, lists:reverse(Acc)}
    after 0 ->
            Next = erlang:monotonic_time(microsecond) + EveryMs * 1000,
            Round = probe_round(nodes()),
            Acc1 = case Count < ?PROBE_MAX_SAMPLES of true -> Round ++ Acc; false -> Acc end,
            receive
                {Sampler, stop} -> Sampler ! {self(), rtts, lists:reverse(Acc1)}
            after max(0, (Next - erlang:monotonic_time(microsecond)) div 1000) ->
                    probe_loop(Sampler, EveryMs, Acc1, Count + length(Round))
            end
    end.

%% One call to each peer at once; each answer timed as it arrives.
probe_round([]) ->
    [];
probe_round(Peers) ->
    SentUs = os:system_time(microsecond),
    T0 = erlang:monotonic_time(microsecond),
    Ids = lists:foldl(fun(P, C) -> erpc:send_request(P, erlang, node, [], P, C) end, erpc:reqids_new(), Peers),
    collect(Ids, SentUs, T0, T0 + ?PROBE_TIMEOUT_MS * 1000, []).

collect(Ids, SentUs, T0, Deadline, Acc) ->
    case erpc:reqids_size(Ids) of
        0 -> Acc;
        _ ->
            Left = max(0, (Deadline - erlang:monotonic_time(microsecond)) div 1000),
            try erpc:receive_response(Ids, Left, true) of
                {_, _Peer, Ids1} ->
                    collect(Ids1, SentUs, T0, Deadline, [{SentUs, erlang:monotonic_time(microsecond) - T0} | Acc]);
                no_request ->
                    Acc;
                timeout ->
                    [{SentUs, lost} || _ <- lists:seq(1, erpc:reqids_size(Ids))] ++ Acc
            catch
                error:{erpc, _} -> Acc;   % the peer went down or the call failed: no round trip
                _:_ -> Acc
            end
    end.

%% Round trips sent before the window and inside it: median and max in ms, and how many
%% were lost (no answer in ?PROBE_TIMEOUT_MS).
rtt_props(Rtts, StartAtUs, EndAtUs) ->
    Before = [R || {S, R} <- Rtts, S < StartAtUs],
    During = [R || {S, R} <- Rtts, S >= StartAtUs, S < EndAtUs],
    [{rtt_before_ms, rtt_summary(Before)}, {rtt_during_ms, rtt_summary(During)}].

%% {Median, Max, Count, Lost} in ms (floats), or `undefined' with no answered probe.
rtt_summary(Rs) ->
    Lost = length([lost || lost <- Rs]),
    case lists:sort([R || R <- Rs, is_integer(R)]) of
        [] -> {undefined, undefined, 0, Lost};
        Sorted ->
            N = length(Sorted),
            {lists:nth((N + 1) div 2, Sorted) / 1000, lists:last(Sorted) / 1000, N, Lost}
    end.
