%% @doc Runs on a BEAM node that a ticksplit agent has joined; the agent ships this module
%% with code:load_binary/3 (nothing is installed on the node) and starts it over RPC.
%%
%% The watcher subscribes to net_kernel:monitor_nodes/2 (all node types, with the nodedown
%% reason) and forwards every nodeup/nodedown to the agent's registered process as
%%   {ticksplit_watcher, ObserverNode, nodeup | nodedown, Peer, Info}.
%% There is at most one watcher per agent on a node, registered under a name derived from
%% the agent's node name: start/2 replaces a running one, so a restarted agent never gets
%% duplicate events, and two agents on one node do not disturb each other. The watcher exits
%% when its agent disconnects; the agent ships and starts a fresh one when it joins again.
-module(ticksplit_watcher).

-export([start/2, stop/1, name/1, init/3]).

%% @doc Starts the watcher for the agent (replacing a running one) and returns
%% `{ok, WatcherPid, NetTicktimeSeconds, NetTickIntensity}'.
-spec start(node(), atom()) -> {ok, pid(), pos_integer(), pos_integer()}.
start(AgentNode, AgentName) when is_atom(AgentNode), is_atom(AgentName) ->
    stop(AgentNode),
    Caller = self(),
    Pid = spawn(?MODULE, init, [Caller, AgentNode, AgentName]),
    Ref = erlang:monitor(process, Pid),
    receive
        {Pid, ready} ->
            erlang:demonitor(Ref, [flush]),
            {ok, Pid, ticktime_seconds(), tick_intensity()};
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
    end.

%% @private The watcher process (exported for spawn/3).
-spec init(pid(), node(), atom()) -> ok.
init(Caller, AgentNode, AgentName) ->
    true = register(name(AgentNode), self()),
    ok = net_kernel:monitor_nodes(true, [nodedown_reason, {node_type, all}]),
    true = erlang:monitor_node(AgentNode, true),
    Caller ! {self(), ready},
    loop(AgentNode, AgentName).

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

ticktime_seconds() ->
    case net_kernel:get_net_ticktime() of
        {ongoing_change_to, T} -> T;
        T when is_integer(T) -> T
    end.

tick_intensity() ->
    application:get_env(kernel, net_tickintensity, 4).
