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
-module(ticksplit_watcher).

-export([start/2, start/3, stop/1, name/1, init/4]).
-export([log/2]).  % the logger handler callback

%% What one forwarded log event may carry, and how many a second (the rest are counted).
-define(MAX_TEXT, 1024).
-define(PER_SECOND, 50).

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

loop(AgentNode, AgentName) ->
    receive
        {nodedown, AgentNode} ->
            %% from monitor_node/2: our agent is gone
            ok;
        {nodedown, AgentNode, _Info} ->
            ok;
        {nodeup, AgentNode, _Info} ->
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
