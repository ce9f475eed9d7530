%% Traffic probes that partition tests load onto the cluster's app nodes (code:load_binary),
%% so that real packets cross the namespaces: UDP streams whose arrival times show when a
%% drop window really began and ended, and TCP connects that must fail or succeed.
-module(ts_probe).
-export([echo_server/0, echo_loop/0, caller/3, caller_loop/4, caller_results/1]).
-export([keep_mesh/2, keep_mesh_loop/2, udp_sink/2, udp_sink_loop/2, udp_stream/5, udp_burst/4, tcp_listen/2, tcp_accept_loop/1,
         tcp_try/4]).
-export([kp_start/0, kp_stop/0, init/1, kp_worker/1]).  % kill_process cases
-behaviour(supervisor).

%% A process that connects to every node of Nodes every IntervalMs, as a busy cluster's
%% traffic would: links cut by a partition come back after it, so the next fault has traffic
%% to drop. Registered as ts_mesh_keeper; a new one replaces the old.
keep_mesh(Nodes, IntervalMs) ->
    case whereis(ts_mesh_keeper) of
        undefined -> ok;
        Old ->
            Ref = monitor(process, Old),
            exit(Old, kill),
            receive {'DOWN', Ref, process, Old, _} -> ok end  % its name is free only then
    end,
    Pid = spawn(?MODULE, keep_mesh_loop, [Nodes -- [node()], IntervalMs]),
    register(ts_mesh_keeper, Pid),
    {ok, Pid}.

keep_mesh_loop(Nodes, IntervalMs) ->
    [net_kernel:connect_node(N) || N <- Nodes],
    receive stop -> ok after IntervalMs -> keep_mesh_loop(Nodes, IntervalMs) end.

%% A registered process on Port that notes {SourceAddress, unix_us} for every datagram.
udp_sink(Family, Port) ->
    Parent = self(),
    Pid = spawn(fun() ->
                        {ok, S} = gen_udp:open(Port, [Family, binary, {active, true}, {recbuf, 1 bsl 20}]),
                        Parent ! {self(), ready},
                        udp_sink_loop(S, [])
                end),
    receive {Pid, ready} -> {ok, Pid} after 5000 -> {error, sink_not_ready} end.

udp_sink_loop(S, Seen) ->
    receive
        {udp, S, From, _Port, _Data} ->
            udp_sink_loop(S, [{From, erlang:system_time(microsecond)} | Seen]);
        {take, Caller} ->
            Caller ! {arrivals, self(), lists:reverse(Seen)},
            udp_sink_loop(S, []);
        {peek, Caller} ->
            Caller ! {arrivals, self(), lists:reverse(Seen)},
            udp_sink_loop(S, Seen);
        stop ->
            gen_udp:close(S)
    end.

%% Sends a datagram to {To, Port} every IntervalMs until DurationMs have passed.
udp_stream(Family, To, Port, IntervalMs, DurationMs) ->
    {ok, S} = gen_udp:open(0, [Family, binary]),
    End = erlang:monotonic_time(millisecond) + DurationMs,
    N = stream(S, To, Port, IntervalMs, End, 0),
    gen_udp:close(S),
    N.

stream(S, To, Port, IntervalMs, End, N) ->
    case erlang:monotonic_time(millisecond) >= End of
        true -> N;
        false ->
            _ = gen_udp:send(S, To, Port, <<N:32>>),  % a locally dropped send fails: fine
            receive after IntervalMs -> ok end,
            stream(S, To, Port, IntervalMs, End, N + 1)
    end.

%% Count datagrams, back to back.
udp_burst(Family, To, Port, Count) ->
    {ok, S} = gen_udp:open(0, [Family, binary]),
    [gen_udp:send(S, To, Port, <<I:32>>) || I <- lists:seq(1, Count)],
    gen_udp:close(S),
    ok.

%% A listener that accepts and closes every connection.
tcp_listen(Family, Port) ->
    Parent = self(),
    Pid = spawn(fun() ->
                        {ok, L} = gen_tcp:listen(Port, [Family, {reuseaddr, true}]),
                        Parent ! {self(), ready},
                        tcp_accept_loop(L)
                end),
    receive {Pid, ready} -> {ok, Pid} after 5000 -> {error, listener_not_ready} end.

tcp_accept_loop(L) ->
    case gen_tcp:accept(L) of
        {ok, C} -> gen_tcp:close(C), tcp_accept_loop(L);
        {error, closed} -> ok
    end.

%% ok if a connection is established within TimeoutMs, {error, Reason} if not.
tcp_try(Family, To, Port, TimeoutMs) ->
    case gen_tcp:connect(To, Port, [Family], TimeoutMs) of
        {ok, C} -> gen_tcp:close(C), ok;
        Error -> Error
    end.

%% A registered process (ts_echo) that answers gen_server:call({ts_echo, Node}, {echo, X}) with
%% X, as a gen_server would: the other end of a caller.
echo_server() ->
    case whereis(ts_echo) of
        undefined -> ok;
        Old ->
            Ref = monitor(process, Old),
            exit(Old, kill),
            receive {'DOWN', Ref, process, Old, _} -> ok end  % its name is free only then
    end,
    Pid = spawn(?MODULE, echo_loop, []),
    register(ts_echo, Pid),
    {ok, Pid}.

echo_loop() ->
    receive
        {'$gen_call', From, {echo, X}} -> gen:reply(From, X), echo_loop();
        stop -> ok;
        _ -> echo_loop()
    end.

%% Starts a gen_server:call to {ts_echo, Server} every IntervalMs, each in a process of its
%% own (so that calls overlap and some are always in flight), with TimeoutMs; caller_results/1
%% stops it and returns [{SentUs, DoneUs, ok | timeout | Other}] in order of sending.
caller(Server, TimeoutMs, IntervalMs) ->
    {ok, spawn(?MODULE, caller_loop, [Server, TimeoutMs, IntervalMs, []])}.

caller_loop(Server, TimeoutMs, IntervalMs, Done) ->
    Self = self(),
    spawn(fun() ->
                  Sent = erlang:system_time(microsecond),
                  R = try gen_server:call({ts_echo, Server}, {echo, Sent}, TimeoutMs) of
                          Sent -> ok;
                          Other -> {wrong_reply, Other}
                      catch exit:{timeout, _} -> timeout;
                            exit:{Why, _} -> Why
                      end,
                  Self ! {called, Sent, erlang:system_time(microsecond), R}
          end),
    collect(Server, TimeoutMs, IntervalMs, Done, erlang:monotonic_time(millisecond) + IntervalMs).

collect(Server, TimeoutMs, IntervalMs, Done, Next) ->
    receive
        {called, Sent, At, R} -> collect(Server, TimeoutMs, IntervalMs, [{Sent, At, R} | Done], Next);
        {results, From} ->
            %% the calls still out end within TimeoutMs
            From ! {results, self(), lists:sort(drain_calls(Done, TimeoutMs + 500))}
    after max(0, Next - erlang:monotonic_time(millisecond)) ->
            caller_loop(Server, TimeoutMs, IntervalMs, Done)
    end.

drain_calls(Done, WaitMs) ->
    receive {called, Sent, At, R} -> drain_calls([{Sent, At, R} | Done], WaitMs)
    after WaitMs -> Done
    end.

caller_results(Pid) ->
    Pid ! {results, self()},
    receive {results, Pid, Rs} -> Rs after 30000 -> error(caller_timeout) end.

%% For kill_process: a one_for_one supervisor ts_kp_sup with one worker registered as
%% ts_kp_worker (child id `worker'), and an unsupervised process registered as ts_kp_alone.
%% Neither is linked to the caller (an rpc's process, gone after the call).
kp_start() ->
    kp_stop(),
    %% the node's own output, not the rpc caller's: supervisor reports stay on the node
    group_leader(whereis(user), self()),
    {ok, Sup} = supervisor:start_link({local, ts_kp_sup}, ?MODULE, kp),
    true = unlink(Sup),
    Alone = spawn(fun() -> receive stop -> ok end end),
    true = register(ts_kp_alone, Alone),
    {ok, Sup, whereis(ts_kp_worker), Alone}.

kp_stop() ->
    [begin Ref = monitor(process, P), exit(P, kill), receive {'DOWN', Ref, _, _, _} -> ok end end
     || Name <- [ts_kp_sup, ts_kp_alone], P <- [whereis(Name)], is_pid(P)],
    ok.

init(kp) ->
    {ok, {#{strategy => one_for_one, intensity => 100, period => 1},
          [#{id => worker, start => {?MODULE, kp_worker, [ts_kp_worker]}}]}}.

kp_worker(Name) ->
    Pid = spawn_link(fun() -> receive stop -> ok end end),
    true = register(Name, Pid),
    {ok, Pid}.
