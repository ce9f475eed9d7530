%% @doc Partition a BEAM cluster from test code, through the ticksplit agents on its hosts.
%%
%% Every host of the cluster runs `ticksplit-agent', a hidden C-node (by default
%% `ticksplit@Host') that drops traffic in the kernel for a fixed window and ends it on time
%% by itself. This module turns partition shapes into one request per agent and arms them all
%% for one common start time:
%%
%% ```
%% Nodes = [A, B, C] = ['app@10.0.0.1', 'app@10.0.0.2', 'app@10.0.0.3'],
%% ok = ticksplit:subscribe(Nodes),
%% {ok, Fault} = ticksplit:split([[A], [B, C]], #{duration => above_window}),
%% receive {ticksplit_event, _, #{type := nodedown, observer := B, peer := A}} -> ok end,
%% ok = ticksplit:heal(Fault).
%% '''
%%
%% Run the calling code on a node outside the partitioned set (a test driver): an agent
%% refuses to drop its requester's address, since that would cut the request's own channel,
%% and to pause its requester's node.
%% Faults belong to the calling node: if it disconnects from an agent, its faults heal.
%%
%% Besides partitions (split/2, isolate/2, one_way/3), pause/2 stops a node's OS process
%% (SIGSTOP) for a window and resumes it (SIGCONT) at its end: to the other nodes it is cut
%% off from all of them, and to itself no time passes. Its agent (the one of its host) stops
%% it, so that the deadline holds even if the calling node goes away.
%%
%% Application environment (all optional):
%% <ul>
%%  <li>`agents': a map `#{Node => AgentNode}' or a fun `(Node) -> AgentNode'; nodes the
%%      map does not name, and every node without this key, use `ticksplit@Host'.</li>
%%  <li>`call_timeout_ms': how long to wait for an agent's reply (default 5000).</li>
%%  <li>`start_lead_ms': without `start_at_us', faults start this long after the call
%%      (default 100, as ticksplit-ctl's), so that every agent has its request before the
%%      window opens.</li>
%% </ul>
-module(ticksplit).

-export([agent_of/1, status/1, window/1, split/2, isolate/2, one_way/3, pause/2, heal/1,
         heal_all/1, subscribe/1, unsubscribe/1, start_lead_ms/0, kill_node/2]).
-export([kill_process/3, stress/2]).
-export_type([options/0, fault/0, error_reason/0, process_target/0, kill_options/0]).

%% What kill_process/3 kills: the process registered under a name, or a random child (one with
%% a pid) of the supervisor registered under a name.
-type process_target() :: {name, atom()} | {supervisor, atom()}.
%% `restart_window_ms': how long the node's watcher looks for the restart (10..60000, default
%% 1000); `start_at_us' and `id' as split/2's.
-type kill_options() :: #{restart_window_ms => 10..60000, start_at_us => integer(), id => binary()}.

-type options() ::
        #{duration_ms => pos_integer(),
          duration => ticksplit_window:class() | ticksplit_window:call_class() | string() | binary(),
          call_timeout => pos_integer() | string() | binary(),
          start_at_us => integer(),
          direction => in | out | both,
          id => binary(),
          loss => float() | 1 | string() | binary(),
          nodes => [node()]}.
%% `duration_ms' or `duration' is required: `duration' is a class drawn against the first
%% agent's window, or a duration in ticksplit_duration's grammar (`"2.9s"', `"0.3T"', T being
%% that agent's net_ticktime), or a call-timeout class (`below_call_timeout',
%% `around_call_timeout', `above_call_timeout': ticksplit_window) drawn against `call_timeout'
%% (ms, or a duration such as `"1s"'; default 5000, gen_server's; 1 s to 1 h), refused with
%% `{longer_than_window, Class, LongestMs, LimitMs}' when that agent's T is too small for it.
%% `start_at_us' is unix time in microseconds; `direction' is what each agent drops: `in'
%% (default, what arrives from the cut peers), `out' or `both'; `id' names the fault on every
%% agent; `nodes' (isolate/2 only) is the cluster to cut the node from; `loss' makes the cut
%% lossy: inside the window each matching packet is dropped with this probability (`0.3', or
%% ticksplit_loss's grammar: `"30%"'; default 1, every packet). pause/2 takes neither
%% `direction', `loss' nor `nodes': a stopped process sends and reads nothing at all.

%% `kind' tells a partition (split/2, isolate/2, one_way/3: `drops', `direction', `loss') from
%% a pause (pause/2: the paused `node'; `drops' is empty, nothing is dropped) and a kill
%% (kill_node/2: the killed `node', `restart_after_ms' (`undefined': the host's supervisor
%% restarts it), `duration_ms' the time until the restart, 0 without one).
-type fault() ::
        #{id := binary(),
          kind := partition | pause | kill_node | kill_process | stress,
          agents := [node()],
          drops := [{Agent :: node(), Nodes :: [node()], Peers :: [node()]}],
          start_at_us := integer(),
          duration_ms := non_neg_integer(),
          direction => in | out | both,
          loss => float(),
          node => node(),
          call_class => ticksplit_window:call_class(),
          call_timeout_ms => pos_integer(),
          restart_after_ms => pos_integer() | undefined,
          target => process_target(),
          hogs => 1..16}.
%% A kill_process's `duration_ms' is its restart window, `node' the node, `target' what it kills.

%% `{refused, Agent, not_allowed}': that agent serves only nodes whose name matches its
%% `--allow' patterns, and this node's does not (any request).
-type error_reason() ::
        {refused, Agent :: node(), Why :: term()}
      | {unreachable, Agent :: node(), Why :: term()}
      | {bad_option, Key :: atom(), Value :: term()}
      | {unknown_option, Key :: term()}
      | {conflicting_options, duration_ms, duration}
      | {conflicting_options, restart_after_ms, restart_after}
      | {bad_duration, string(), ticksplit_duration:why()}
      | missing_duration
      | {call_timeout_without_call_class, Duration :: term()}
      | ticksplit_window:call_class_error()
      | {bad_groups, term()} | {bad_node, term()} | {duplicate_node, node()}
      | {same_agent, node(), [node()]}
      | {own_host, node(), [node()]}
      | {no_window, Agent :: node()}
      | {no_peers, node()}
      | {bad_target, term()}.

-define(APP, ticksplit).
%% tests/data/golden/arming.txt: ticksplit-ctl arms with the same lead
-define(START_LEAD_MS, 100).
-define(OPTION_KEYS, [duration_ms, duration, call_timeout, start_at_us, direction, id, loss]).
-define(DEFAULT_RESTART_WINDOW_MS, 1000).
%% a stopped process neither sends nor reads: no direction, no loss, no cluster to cut from
-define(PAUSE_KEYS, ?OPTION_KEYS -- [direction, loss]).
-define(STRESS_KEYS, [hogs | ?PAUSE_KEYS]).

%% @doc How far ahead of the call a fault starts without `start_at_us' (ms).
-spec start_lead_ms() -> pos_integer().
start_lead_ms() -> env(start_lead_ms, ?START_LEAD_MS).

%% @doc The agent that serves `Node': from the application environment `agents' if it names
%% one, else `ticksplit@Host' for `Name@Host'.
-spec agent_of(node()) -> node().
agent_of(Node) when is_atom(Node) ->
    case application:get_env(?APP, agents) of
        undefined -> default_agent(Node);
        {ok, F} when is_function(F, 1) -> F(Node);
        {ok, #{Node := Agent}} -> Agent;
        {ok, M} when is_map(M) -> default_agent(Node);
        {ok, Other} -> error({bad_application_env, agents, Other})
    end.

%% @doc The status map of an agent, given the agent or a node it serves.
-spec status(node()) -> {ok, map()} | {error, error_reason()}.
status(NodeOrAgent) ->
    Agent = resolve_agent(NodeOrAgent),
    case call(Agent, status) of
        {ok, #{} = Status} -> {ok, Status};
        Other -> unexpected(Agent, Other)
    end.

%% @doc The detection window `{MinMs, MaxMs}' of the node's agent: a silent peer is declared
%% down after between `T - T/I' and `T + T/I' (net_ticktime, net_tickintensity).
-spec window(node()) -> {ok, ticksplit_window:window()} | {error, error_reason()}.
window(Node) ->
    case status(Node) of
        {ok, #{detection_window_ms := W}} -> {ok, W};
        {ok, Other} -> unexpected(resolve_agent(Node), Other);
        Error -> Error
    end.

%% @doc Cuts the cluster into groups: every node drops traffic from the nodes outside its
%% group, for the same window on every agent. If an agent refuses, the agents already armed
%% are healed and the error names the agent that refused.
-spec split([[node()]], options()) -> {ok, fault()} | {error, error_reason()}.
split(Groups, Opts) ->
    with([fun() -> check_options(Opts, ?OPTION_KEYS) end,
          fun() -> ticksplit_groups:drop_sets(Groups) end],
         fun(Drops) -> arm(Drops, Opts) end).

%% @doc Cuts `Node' from the rest of the cluster: `nodes' in Opts, or else the nodes `Node'
%% is connected to (the calling node excluded).
-spec isolate(node(), options()) -> {ok, fault()} | {error, error_reason()}.
isolate(Node, Opts) ->
    with([fun() -> check_options(Opts, [nodes | ?OPTION_KEYS]) end,
          fun() -> others(Node, Opts) end],
         fun(Others) -> split([[Node], Others], maps:remove(nodes, Opts)) end).

%% @doc Drops what `From' sends to `To' (`To''s agent drops what arrives from `From');
%% `To' still reaches `From'. No `direction' option: the direction is the point.
-spec one_way(node(), node(), options()) -> {ok, fault()} | {error, error_reason()}.
one_way(From, To, Opts) ->
    with([fun() -> check_options(Opts, ?OPTION_KEYS -- [direction]) end,
          fun() -> ticksplit_groups:drop_sets([[From], [To]]) end],   % checks the two names
         fun(_) -> arm([{To, [From]}], Opts) end).

%% @doc Stops `Node''s OS process for the window and resumes it at its end, through the agent
%% of `Node''s host: the other nodes hear nothing from it (above the window, they see it go
%% by net_tick_timeout), and it sees no time pass. Options as split/2's without `direction'
%% and `loss'; a `duration' is drawn against that agent's window. Besides the option errors,
%% the agent's refusals come as `{refused, Agent, Why}', e.g. `{requester_node, Node}' (the
%% calling node itself), `{already_paused, Node}', `{not_local_node, Node}' (the `agents' env
%% names an agent of another host).
-spec pause(node(), options()) -> {ok, fault()} | {error, error_reason()}.
pause(Node, Opts) ->
    with([fun() -> check_options(Opts, ?PAUSE_KEYS) end,
          fun() -> check_node(Node) end],
         fun(_) -> arm_pause(Node, Opts) end).

%% @doc SIGKILLs `Node''s OS process at `start_at_us' (default: the start lead from now)
%% through the agent of `Node''s host and, with `restart_after_ms' (or `restart_after', a
%% duration or class as `duration' is), starts it again that long after the kill with the
%% agent's `--node-start' command for it; without either, the host's supervisor is left to
%% restart it. The other nodes see it go at once (its connections close). Options:
%% `start_at_us', `id', `restart_after_ms' | `restart_after'. The agent's refusals come as
%% `{refused, Agent, Why}': `{requester_node, Node}', `{already_killed, Node}',
%% `{no_start_command, Node}' (a restart asked, the agent has no --node-start for it),
%% `{not_local_node, Node}', `{node_not_joined, Node}', `{cannot_kill, Node, Why}'.
-spec kill_node(node(), map()) -> {ok, fault()} | {error, error_reason()}.
kill_node(Node, Opts) ->
    with([fun() -> check_kill_options(Opts) end,
          fun() -> check_node(Node) end],
         fun(_) -> arm_kill(Node, Opts) end).

%% @doc Kills a process on `Node' (`exit(Pid, kill)') at the fault's start, through the agent of
%% `Node''s host: the node's watcher kills the process registered as `Name', or a random child
%% with a pid of the supervisor registered as `Sup', and watches for its restart for the
%% restart window. The agent sends the outcome as a `process_killed' event (`pid', `killed_us',
%% `restarted', `new_pid', `restarted_us', `error'; subscribe/1 first to get it). Refusals come
%% as `{refused, Agent, Why}': `{not_local_node, Node}', `{node_not_joined, Node}',
%% `{bad_target, T}', `{bad_restart_window, Ms}', `{duplicate_id, Id}', `{too_many_kills, N}'
%% and the timing ones. What is only known on the node at the instant (no such process, not a
%% supervisor, no child) is the event's `error', not a refusal. heal/1 on it is `ok' and does
%% nothing: a kill cannot be undone.
-spec kill_process(node(), process_target(), kill_options()) -> {ok, fault()} | {error, error_reason()}.
kill_process(Node, Target, Opts) ->
    with([fun() -> check_kill_process_options(Opts) end,
          fun() -> check_node(Node) end,
          fun() -> check_target(Target) end],
         fun(_) -> arm_kill_process(Node, Target, Opts) end).

%% @doc Starves `Node''s schedulers for the window, through the agent of `Node''s host: on
%% the node, `hogs' (option, 1..16, default 2) busy processes per online scheduler at `max'
%% priority run until the deadline and end by themselves (docs/faults.md, "Stress"). The node's
%% own (normal-priority) processes do not run meanwhile; distribution (max priority, as the
%% hogs) runs late by tens of milliseconds. The figures come in the `stress_ended' event.
%% Options as pause/2's, plus `hogs'. Refusals: `{already_stressed, Node}',
%% `{not_local_node, Node}', `{node_not_joined, Node}', `{cannot_stress, Node, Why}', timing.
-spec stress(node(), options()) -> {ok, fault()} | {error, error_reason()}.
stress(Node, Opts) ->
    with([fun() -> check_options(Opts, ?STRESS_KEYS) end,
          fun() -> check_node(Node) end],
         fun(_) -> arm_stress(Node, Opts) end).

%% @doc Ends a fault on every agent of it now (a paused node is resumed, a killed one started
%% again at once if it was to be). `ok' also for a
%% fault that already ended.
-spec heal(fault()) -> ok | {error, error_reason()}.
heal(#{id := Id, agents := Agents}) ->
    all_ok([{A, call(A, {heal, Id})} || A <- Agents], fun(ok) -> true;
                                                         ({error, not_found}) -> true;
                                                         (_) -> false
                                                      end).

%% @doc Ends every fault, whoever asked for it, on the agents of these nodes.
-spec heal_all([node()]) -> ok | {error, error_reason()}.
heal_all(Nodes) ->
    all_ok([{A, call(A, heal)} || A <- agents(Nodes)], fun({ok, N}) -> is_integer(N);
                                                          (_) -> false
                                                       end).

%% @doc Sends the events of the agents of these nodes to the caller as
%% `{ticksplit_event, Agent, Event}', until the caller's node disconnects or unsubscribes.
-spec subscribe([node()]) -> ok | {error, error_reason()}.
subscribe(Nodes) ->
    all_ok([{A, call(A, {subscribe, self()})} || A <- agents(Nodes)], fun(R) -> R =:= ok end).

%% @doc Stops the events of subscribe/1.
-spec unsubscribe([node()]) -> ok | {error, error_reason()}.
unsubscribe(Nodes) ->
    all_ok([{A, call(A, {unsubscribe, self()})} || A <- agents(Nodes)], fun(R) -> R =:= ok end).

%%% Arming

arm(Drops, Opts) ->
    case ticksplit_groups:by_agent(Drops, fun agent_of/1) of
        {ok, PerAgent} ->
            Agents = [A || {A, _, _} <- PerAgent],
            with([fun() -> connect(Agents) end,
                  fun() -> duration_ms(Opts, hd(Agents)) end],
                 fun(Ms) -> send(PerAgent, Ms, Opts) end);
        Error ->
            Error
    end.

send(PerAgent, Ms, Opts) ->
    Id = fault_id(Opts),
    Start = start_at_us(Opts),
    Direction = maps:get(direction, Opts, in),
    {ok, Ppm} = ticksplit_loss:of_option(maps:get(loss, Opts, 1)),  % checked by valid/2
    Loss = ticksplit_loss:probability(Ppm),
    Spec0 = #{duration_ms => Ms, start_at_us => Start, id => Id, direction => Direction},
    Spec = case Ppm of
               1000000 -> Spec0;  % total: what an agent without loss does too
               _ -> Spec0#{loss => Loss}
           end,
    arm_all([{A, {partition, Spec#{peers => Peers}}} || {A, _, Peers} <- PerAgent],
            sized(#{id => Id, kind => partition, agents => [A || {A, _, _} <- PerAgent], drops => PerAgent,
                    start_at_us => Start, duration_ms => Ms, direction => Direction, loss => Loss}, Opts)).

arm_pause(Node, Opts) ->
    Agent = agent_of(Node),
    with([fun() -> connect([Agent]) end,
          fun() -> duration_ms(Opts, Agent) end],
         fun(Ms) ->
                 Id = fault_id(Opts),
                 Start = start_at_us(Opts),
                 arm_all([{Agent, {pause, #{node => Node, duration_ms => Ms, start_at_us => Start, id => Id}}}],
                         sized(#{id => Id, kind => pause, agents => [Agent], node => Node, drops => [],
                                 start_at_us => Start, duration_ms => Ms}, Opts))
         end).

arm_kill(Node, Opts) ->
    Agent = agent_of(Node),
    with([fun() -> connect([Agent]) end,
          fun() -> restart_after_ms(Opts, Agent) end],
         fun(After) ->
                 Id = fault_id(Opts),
                 Start = start_at_us(Opts),
                 Spec0 = #{node => Node, start_at_us => Start, id => Id},
                 Spec = case After of
                            undefined -> Spec0;
                            _ -> Spec0#{restart_after_ms => After}
                        end,
                 arm_all([{Agent, {kill_node, Spec}}],
                         #{id => Id, kind => kill_node, agents => [Agent], node => Node, drops => [],
                           start_at_us => Start, duration_ms => case After of undefined -> 0; _ -> After end,
                           restart_after_ms => After})
         end).

restart_after_ms(#{restart_after_ms := Ms}, _) -> {ok, Ms};
restart_after_ms(#{restart_after := D}, Agent) -> duration_ms(#{duration => D}, Agent);
restart_after_ms(_, _) -> {ok, undefined}.

arm_kill_process(Node, {Kind, Name} = Target, Opts) ->
    Agent = agent_of(Node),
    with([fun() -> connect([Agent]) end],
         fun(_) ->
                 Id = fault_id(Opts),
                 Start = start_at_us(Opts),
                 Window = maps:get(restart_window_ms, Opts, ?DEFAULT_RESTART_WINDOW_MS),
                 arm_all([{Agent, {kill_process, #{node => Node, Kind => Name, restart_window_ms => Window,
                                                   start_at_us => Start, id => Id}}}],
                         #{id => Id, kind => kill_process, agents => [Agent], node => Node, drops => [],
                           target => Target, start_at_us => Start, duration_ms => Window})
         end).

arm_stress(Node, Opts) ->
    Agent = agent_of(Node),
    Hogs = maps:get(hogs, Opts, 2),
    with([fun() -> connect([Agent]) end,
          fun() -> duration_ms(Opts, Agent) end],
         fun(Ms) ->
                 Id = fault_id(Opts),
                 Start = start_at_us(Opts),
                 Spec = #{node => Node, duration_ms => Ms, start_at_us => Start, id => Id, hogs => Hogs},
                 arm_all([{Agent, {stress, Spec}}],
                         #{id => Id, kind => stress, agents => [Agent], node => Node, drops => [],
                           start_at_us => Start, duration_ms => Ms, hogs => Hogs})
         end).

%% Every request is sent before any reply is awaited (they carry one start time); {ok, Fault}
%% if every agent armed its part.
arm_all(Requests, #{id := Id} = Fault) ->
    Pending = [{A, gen_server:send_request({ticksplit, A}, Request)} || {A, Request} <- Requests],
    Replies = [{A, reply(A, gen_server:receive_response(R, env(call_timeout_ms, 5000)))}
               || {A, R} <- Pending],
    case [E || {_, {error, _} = E} <- Replies] of
        [] ->
            {ok, Fault};
        [First | _] ->
            %% Heal wherever the fault may be armed: not where it was refused, since a
            %% refusal for a duplicate id means another fault holds that id there.
            [call(A, {heal, Id}) || {A, R} <- Replies, not is_refusal(R)],
            First
    end.

reply(_, {reply, {ok, Id}}) when is_binary(Id) -> ok;
reply(A, {reply, {error, Why}}) -> {error, {refused, A, Why}};
reply(A, {reply, Other}) -> {error, {refused, A, {unexpected_reply, Other}}};
reply(A, {error, {Why, _}}) -> {error, {unreachable, A, Why}};
reply(A, timeout) -> {error, {unreachable, A, timeout}}.

is_refusal({error, {refused, _, _}}) -> true;
is_refusal(_) -> false.

%% Connections first, so that setting one up does not eat into the start lead.
connect([]) -> ok;
connect([A | Rest]) ->
    case net_kernel:connect_node(A) of
        true -> connect(Rest);
        _ -> {error, {unreachable, A, noconnection}}
    end.

%% A fault drawn from a call-timeout class says which, and the call timeout.
sized(Fault, #{duration := D} = Opts) ->
    case lists:member(D, ticksplit_window:call_classes()) of
        true -> Fault#{call_class => D, call_timeout_ms => call_timeout_ms(Opts)};
        false -> Fault
    end;
sized(Fault, _) ->
    Fault.

call_timeout_ms(Opts) ->
    case maps:get(call_timeout, Opts, ticksplit_window:default_call_timeout_ms()) of
        Ms when is_integer(Ms) -> Ms;
        Text -> {ok, Ms} = ticksplit_duration:to_ms(element(2, ticksplit_duration:parse(Text, false)), undefined), Ms
    end.

duration_ms(#{duration_ms := Ms}, _) -> {ok, Ms};
duration_ms(#{duration := D} = Opts, Agent) ->
    IsCallClass = lists:member(D, ticksplit_window:call_classes()),
    case lists:member(D, ticksplit_window:classes()) of
        false when IsCallClass ->
            with_window(Agent, fun(W, _T) -> ticksplit_window:pick_call(D, call_timeout_ms(Opts), W) end);
        true ->
            with_window(Agent, fun(W, _T) -> {ok, ticksplit_window:pick(D, W)} end);
        false ->
            {ok, Parsed} = ticksplit_duration:parse(D, true),  % checked by valid/2
            case ticksplit_duration:to_ms(Parsed, undefined) of
                {error, {bad_duration, _, no_ticktime}} ->    % in units of T: the agent's
                    with_window(Agent, fun(_W, T) -> ticksplit_duration:to_ms(Parsed, T) end);
                Result ->                                       % needs no T
                    Result
            end
    end.

%% The agent's detection window and T (its middle), or {no_window, Agent} while the agent does
%% not know its node's tick yet.
with_window(Agent, Fun) ->
    with([fun() -> window(Agent) end],
         fun({Min, Max} = W) when is_integer(Min), is_integer(Max) -> Fun(W, (Min + Max) div 2);
            (_) -> {error, {no_window, Agent}}
         end).

fault_id(Opts) -> maps:get(id, Opts, new_id()).

start_at_us(Opts) ->
    maps:get(start_at_us, Opts, os:system_time(microsecond) + env(start_lead_ms, ?START_LEAD_MS) * 1000).

new_id() ->
    iolist_to_binary(io_lib:format("ts-~.36b-~.36b-~.36b",
                                   [erlang:phash2(node()), os:system_time(microsecond),
                                    erlang:unique_integer([positive])])).

%%% Options

check_options(Opts, Allowed) when is_map(Opts) ->
    case [K || K <- maps:keys(Opts), not lists:member(K, Allowed)] of
        [K | _] -> {error, {unknown_option, K}};
        [] ->
            case {Opts, [{K, V} || {K, V} <- maps:to_list(Opts), not valid(K, V)]} of
                {_, [{K, V} | _]} -> {error, {bad_option, K, V}};
                {#{duration_ms := _, duration := _}, []} ->
                    {error, {conflicting_options, duration_ms, duration}};
                {#{call_timeout := _, duration := D}, []} ->
                    case lists:member(D, ticksplit_window:call_classes()) of
                        true -> ok;
                        false -> {error, {call_timeout_without_call_class, D}}
                    end;
                {#{call_timeout := _}, []} -> {error, {call_timeout_without_call_class, duration_ms}};
                {#{duration_ms := _}, []} -> ok;
                {#{duration := _}, []} -> ok;
                {_, []} -> {error, missing_duration}
            end
    end;
check_options(Opts, _) ->
    {error, {bad_option, options, Opts}}.

valid(duration_ms, V) -> is_integer(V) andalso V > 0;
valid(duration, V) ->
    lists:member(V, ticksplit_window:classes() ++ ticksplit_window:call_classes()) orelse
        ((is_list(V) orelse is_binary(V)) andalso element(1, ticksplit_duration:parse(V, true)) =:= ok);
valid(call_timeout, V) when is_integer(V) -> V >= 1000 andalso V =< 3600000;
valid(call_timeout, V) when is_list(V); is_binary(V) ->
    case ticksplit_duration:parse(V, false) of
        {ok, D} -> valid(call_timeout, element(2, ticksplit_duration:to_ms(D, undefined)));
        _ -> false
    end;
valid(call_timeout, _) -> false;
valid(start_at_us, V) -> is_integer(V);
valid(direction, V) -> lists:member(V, [in, out, both]);
valid(id, V) -> is_binary(V) andalso byte_size(V) >= 1 andalso byte_size(V) =< 128;
valid(loss, V) -> ticksplit_loss:of_option(V) =/= error;
valid(nodes, V) -> is_list(V) andalso lists:all(fun is_atom/1, V);
valid(hogs, V) -> is_integer(V) andalso V >= 1 andalso V =< 16.

%% kill_node/2's: no duration (the kill is an instant), an optional restart.
check_kill_options(Opts) when is_map(Opts) ->
    Allowed = [start_at_us, id, restart_after_ms, restart_after],
    case [K || K <- maps:keys(Opts), not lists:member(K, Allowed)] of
        [K | _] -> {error, {unknown_option, K}};
        [] ->
            Bad = [{K, V} || {K, V} <- maps:to_list(Opts),
                             not valid(case K of restart_after_ms -> duration_ms;
                                                 restart_after -> duration;
                                                 _ -> K
                                       end, V)],
            case {Opts, Bad} of
                {_, [{K, V} | _]} -> {error, {bad_option, K, V}};
                {#{restart_after_ms := _, restart_after := _}, []} ->
                    {error, {conflicting_options, restart_after_ms, restart_after}};
                _ -> ok
            end
    end;
check_kill_options(Opts) ->
    {error, {bad_option, options, Opts}}.

check_kill_process_options(Opts) when is_map(Opts) ->
    Valid = fun(restart_window_ms, V) -> is_integer(V) andalso V >= 10 andalso V =< 60000;
               (K, V) -> valid(K, V)
            end,
    case [K || K <- maps:keys(Opts), not lists:member(K, [restart_window_ms, start_at_us, id])] of
        [K | _] -> {error, {unknown_option, K}};
        [] ->
            case [{K, V} || {K, V} <- maps:to_list(Opts), not Valid(K, V)] of
                [{K, V} | _] -> {error, {bad_option, K, V}};
                [] -> ok
            end
    end;
check_kill_process_options(Opts) ->
    {error, {bad_option, options, Opts}}.

check_target({Kind, Name} = T) when Kind =:= name; Kind =:= supervisor ->
    case is_atom(Name) andalso Name =/= undefined of
        true -> ok;
        false -> {error, {bad_target, T}}
    end;
check_target(T) ->
    {error, {bad_target, T}}.

check_node(Node) ->
    case is_atom(Node) andalso ticksplit_node:valid(Node) of
        true -> ok;
        false -> {error, {bad_node, Node}}
    end.

others(Node, Opts) ->
    Cluster = case Opts of
                  #{nodes := Nodes} -> Nodes;
                  _ -> rpc:call(Node, erlang, nodes, [], env(call_timeout_ms, 5000))
              end,
    case Cluster of
        {badrpc, Why} -> {error, {unreachable, Node, Why}};
        _ ->
            case Cluster -- [Node, node()] of
                [] -> {error, {no_peers, Node}};
                Others -> {ok, Others}
            end
    end.

%%% Agents

default_agent(Node) -> ticksplit_node:default_agent(Node).

%% An agent is named ticksplit@Host or is a value of the `agents' map; anything else is a
%% node, mapped to its agent.
resolve_agent(X) ->
    Configured = case application:get_env(?APP, agents) of
                     {ok, M} when is_map(M) -> maps:values(M);
                     _ -> []
                 end,
    case lists:member(X, Configured) orelse hd(string:split(atom_to_list(X), "@")) =:= "ticksplit" of
        true -> X;
        false -> agent_of(X)
    end.

agents(Nodes) -> lists:usort([resolve_agent(N) || N <- Nodes]).

call(Agent, Request) ->
    try gen_server:call({ticksplit, Agent}, Request, env(call_timeout_ms, 5000))
    catch exit:{Why, _} -> {error, {unreachable, Agent, Why}}
    end.

all_ok(Replies, IsOk) ->
    case [{A, R} || {A, R} <- Replies, not IsOk(R)] of
        [] -> ok;
        [{_, {error, {unreachable, _, _}} = E} | _] -> E;
        [{A, {error, Why}} | _] -> {error, {refused, A, Why}};
        [{A, Other} | _] -> unexpected(A, Other)
    end.

unexpected(_, {error, {unreachable, _, _}} = E) -> E;
%% A refusal of any request, e.g. not_allowed (the agent's --allow patterns do not match this
%% node's name), says why, as a fault's refusal does.
unexpected(Agent, {error, Why}) -> {error, {refused, Agent, Why}};
unexpected(Agent, Other) -> {error, {refused, Agent, {unexpected_reply, Other}}}.

env(Key, Default) -> application:get_env(?APP, Key, Default).

%% Runs the steps in order; the first error stops; the last step's value goes to Then.
with(Steps, Then) -> with(Steps, Then, undefined).
with([], Then, Value) -> Then(Value);
with([Step | Rest], Then, _) ->
    case Step() of
        ok -> with(Rest, Then, ok);
        {ok, Value} -> with(Rest, Then, Value);
        {error, _} = Error -> Error
    end.
