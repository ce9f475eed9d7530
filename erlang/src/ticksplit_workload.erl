%% @doc Runs a Jepsen-style workload: concurrent clients invoke operations on the system
%% under test, each recorded in a history (ticksplit_ops), while a nemesis
%% (ticksplit_nemesis) partitions the cluster; then `ticksplit-ctl check' (ticksplit_check)
%% says whether the history fits a model.
%%
%% ```
%% {ok, Summary} =
%%     ticksplit_workload:run(#{client => {ticksplit_register_client, #{target => {local, reg, A}}},
%%                              nodes => [A, B, C], clients => 6, rate => 60,
%%                              duration_ms => 8000, timeout_ms => 500, history => "ops.jsonl",
%%                              ops => [{2, read, null}, {1, write, {random, 1, 5}},
%%                                      {1, cas, fun() -> {rand:uniform(5), rand:uniform(5)} end}],
%%                              nemesis => [{wait, 1500}, {isolate, A, #{duration => above_window}}]}),
%% {valid, _} = ticksplit_check:run(["ops.jsonl"], cas_register, #{}).
%% '''
%%
%% Options:
%% <ul>
%%  <li>`client => {Module, ClientOpts}' (required): a ticksplit_client.</li>
%%  <li>`nodes => [node()]' (required): client `i' (from 0) opens on node `i rem length(nodes)'.</li>
%%  <li>`clients => N': how many run at once (default `length(nodes)').</li>
%%  <li>`ops => [{Weight, F, ValueGen}]' (required): each operation is drawn with probability
%%      Weight/total. ValueGen: `unique' (1, 2, 3, ... across the run: set adds, queue
%%      enqueues, unique writes), `{random, Lo, Hi}', a `fun/0' (called in the client's
%%      process, whose `rand' state the seed fixes), or any other term as a constant. read,
%%      dequeue and drain take `null'.</li>
%%  <li>`keys => [Key]': each operation picks a key at random (recorded as `key'); or
%%      `keys => {rotate_ms, Ms}': every operation started in the same `Ms'-long stretch of
%%      the run uses the same key, `0, 1, 2, ...' (Jepsen's independent keys, over time): a
%%      linearizability check of one key's history ends at its first anomaly, so fresh keys
%%      let each fault of a run be judged on its own. `final' needs a list of keys.</li>
%%  <li>`rate => OpsPerSecond' (default 100) over all clients: each client starts an
%%      operation at most every `clients / rate' seconds (from a random offset), never two
%%      at once; a slow operation delays the next one.</li>
%%  <li>`duration_ms' (required): clients start no operation after it; `until => fun/0'
%%      (polled every 100 ms) ends the run earlier when it returns true, skipping the
%%      nemesis steps not started.</li>
%%  <li>`timeout_ms' (default 1000): given to the client; the runner also kills an
%%      operation that has not returned 50 ms later. Either way it is `info'.</li>
%%  <li>`history => File' (a new recorder, closed at the end) or `recorder => Rec' (shared,
%%      left open; process numbers then start at ticksplit_ops:next_process/1, or at
%%      `process_base').</li>
%%  <li>`seed' (default: the time): fixes each client's operations and values.</li>
%%  <li>`final => [{F, ValueGen}]': after the clients and the nemesis are done (every fault
%%      healed), one operation of each per key (or once without keys), each from a fresh
%%      process on a fresh client (nodes in turn): Jepsen's final reads, e.g. `{read, null}'
%%      for a set or `{drain, null}' for a queue. A cluster that needs time to reconnect
%%      after the last heal wants a `{wait, Ms}' as the nemesis's last step.</li>
%%  <li>`nemesis => [Step]': see ticksplit_nemesis (`{wait, Ms}', `{split, Groups,
%%      FaultOpts}', `{isolate, Node, FaultOpts}', `{one_way, From, To, FaultOpts}',
%%      `{pause, Node, FaultOpts}', `{kill_node, Node, KillOpts}', `{kill_process, Node, Target, KillOpts}', `{stress, Node, FaultOpts}', `heal_all'); the steps run alongside the clients, faults one after the other, and the
%%      run lasts until both are done. `stop_grace_ms' (default 5000): how long after its
%%      last operation's timeout a client may take to close (or a final operation to open,
%%      run and close) before it is killed, with a note. `heal_grace_ms' (default 5000): how long after a
%%      fault's end to wait for the agents to report it healed.</li>
%%  <li>`subscribe => boolean()' (default: true when there is a nemesis): record the agents'
%%      nodeup/nodedown events of `nodes'.</li>
%%  <li>`fault_api => Module' (default `ticksplit'): the seam through which the nemesis arms
%%      faults and subscribes; tests give a fake.</li>
%% </ul>
%%
%% The history starts with a line `{"kind":"run_start","source":"ticksplit_workload",
%% "seed":S,"nodes":[...],"clients":N,"first_process":P,"window_ms":[Min,Max],"time_us":T}'
%% (`window_ms', the first node's detection window, only with a nemesis: the checker uses it
%% to attribute anomalies to faults), then the operations (ticksplit_ops), the nemesis's lines
%% (ticksplit_nemesis) and notes (`workload: ...', `nemesis: ...').
%%
%% Processes follow Jepsen: client `i' starts as process `i'; once an operation of it is
%% indeterminate (`info'), that process never invokes again, the client is closed and
%% reopened on the same node (a connection in an unknown state is not reused) and goes on as
%% process `P + clients'. A client that cannot be reopened retries at its rate.
%%
%% The result is `{ok, Summary}': `#{ops, ok, fail, info, processes, history, faults, final}'
%% (`ops' = ok + fail + info, final operations included; `processes' the number of processes
%% that invoked; `faults' the nemesis's faults, see ticksplit_nemesis; `final' one
%% `#{f, key, node, outcome}' per final operation, the outcome as ticksplit_ops:with/6
%% returns it), or `{error, Reason}': a bad option, a client that
%% could not be opened at the start (`{client_open, Node, Why}'), a nemesis step refused
%% (`{nemesis, Step, Why}', the clients are stopped), a subscription refused.
-module(ticksplit_workload).

-export([run/1, load_modules/2]).

-define(FS, [read, write, cas, append, add, enqueue, dequeue, drain]).
-define(NO_ARG, [read, dequeue, drain]).
-define(POLL_MS, 100).

%% The coordinator hands its result over as its exit reason (the caller sees it in the DOWN
%% message even if the coordinator crashed), so the fun it runs never returns.
-dialyzer({no_return, run/1}).

%%% API

%% @doc Runs a workload; see the module doc.
-spec run(map()) -> {ok, map()} | {error, term()}.
run(Opts) ->
    case config(Opts) of
        {ok, C} ->
            Caller = self(),
            {Pid, Ref} = spawn_monitor(fun() -> coordinator(Caller, C) end),
            receive
                {'DOWN', Ref, process, Pid, {?MODULE, Result}} -> Result;
                {'DOWN', Ref, process, Pid, Why} -> {error, {workload_crashed, Why}}
            end;
        Error ->
            Error
    end.

%% @doc Loads the local object code of the modules onto the nodes (purging old code first),
%% for targets whose code runs there (ticksplit_register_server, ticksplit_mnesia_client).
%% A node that already runs the same version is left alone.
-spec load_modules([node()], [module()]) -> ok | {error, term()}.
load_modules(Nodes, Modules) ->
    Code = [{M, code:get_object_code(M)} || M <- Modules],
    case [M || {M, error} <- Code] of
        [] -> load_each([{N, M, Bin, File} || N <- Nodes, {M, {_, Bin, File}} <- Code]);
        [M | _] -> {error, {no_object_code, M}}
    end.

load_each([]) -> ok;
load_each([{Node, M, Bin, File} | Rest]) ->
    {ok, {M, Md5}} = beam_lib:md5(Bin),
    Result = try
                 case catch erpc:call(Node, erlang, get_module_info, [M, md5]) of
                     Md5 -> {module, M};
                     _ ->
                         _ = erpc:call(Node, code, purge, [M]),
                         erpc:call(Node, code, load_binary, [M, File, Bin])
                 end
             catch Class:Reason -> {error, {Class, Reason}}
             end,
    case Result of
        {module, M} -> load_each(Rest);
        {error, Why} -> {error, {load, Node, M, Why}}
    end.

%%% Options

config(Opts) when is_map(Opts) ->
    Known = [client, nodes, clients, ops, keys, rate, duration_ms, until, timeout_ms, history,
             recorder, process_base, seed, final, nemesis, subscribe, fault_api, heal_grace_ms,
             stop_grace_ms],
    Nemesis = maps:get(nemesis, Opts, []),
    Defaults = #{clients => length(maps:get(nodes, Opts, [])), rate => 100, timeout_ms => 1000,
                 seed => erlang:system_time(), final => [], nemesis => [],
                 subscribe => Nemesis =/= [], fault_api => ticksplit, heal_grace_ms => 5000,
                 stop_grace_ms => 5000},
    Unknown = [K || K <- maps:keys(Opts), not lists:member(K, Known)],
    Missing = [K || K <- [client, nodes, ops, duration_ms], not is_map_key(K, Opts)],
    case {Unknown, Missing} of
        {[K | _], _} -> {error, {unknown_option, K}};
        {[], [K | _]} -> {error, {missing_option, K}};
        {[], []} -> check_values(Known, maps:merge(Defaults, Opts))
    end;
config(Opts) ->
    {error, {bad_option, options, Opts}}.

%% In the order of Known, so that a bad `nodes' is reported rather than the default of
%% `clients' it gave.
check_values(Known, C) ->
    Bad = [K || K <- Known, is_map_key(K, C), not valid(K, maps:get(K, C))],
    case {Bad, C} of
        {[K | _], _} -> {error, {bad_option, K, maps:get(K, C)}};
        {[], #{keys := {rotate_ms, _}, final := [_ | _]}} -> {error, {conflicting_options, keys, final}};
        {[], #{history := _, recorder := _}} -> {error, {conflicting_options, history, recorder}};
        {[], #{history := _}} -> {ok, C};
        {[], #{recorder := _}} -> {ok, C};
        {[], _} -> {error, {missing_option, history}}
    end.

valid(client, {M, O}) -> is_atom(M) andalso is_map(O);
valid(nodes, [_ | _] = Ns) -> lists:all(fun is_atom/1, Ns);
valid(clients, N) -> is_integer(N) andalso N > 0;
valid(ops, [_ | _] = Ops) ->
    lists:all(fun({W, F, G}) -> is_integer(W) andalso W > 0 andalso valid_op(F, G);
                 (_) -> false
              end, Ops);
valid(keys, [_ | _]) -> true;
valid(keys, {rotate_ms, Ms}) -> is_integer(Ms) andalso Ms > 0;
valid(rate, R) -> is_number(R) andalso R > 0;
valid(duration_ms, D) -> is_integer(D) andalso D >= 0;
valid(until, F) -> is_function(F, 0);
valid(timeout_ms, T) -> is_integer(T) andalso T > 0;
valid(history, F) -> is_list(F) orelse is_binary(F) orelse is_atom(F);
valid(recorder, R) -> is_pid(R);
valid(process_base, B) -> is_integer(B) andalso B >= 0;
valid(seed, S) -> is_integer(S);
valid(final, Fs) ->
    is_list(Fs) andalso lists:all(fun({F, G}) -> valid_op(F, G); (_) -> false end, Fs);
valid(nemesis, Steps) -> is_list(Steps) andalso lists:all(fun valid_step/1, Steps);
valid(subscribe, B) -> is_boolean(B);
valid(fault_api, M) -> is_atom(M);
valid(heal_grace_ms, G) -> is_integer(G) andalso G >= 0;
valid(stop_grace_ms, G) -> is_integer(G) andalso G >= 0;
valid(_, _) -> false.

valid_op(F, G) ->
    lists:member(F, ?FS) andalso
        (not lists:member(F, ?NO_ARG) orelse lists:member(G, [null, undefined, nil])).

valid_step({wait, Ms}) -> is_integer(Ms) andalso Ms >= 0;
valid_step({split, Groups, O}) -> is_list(Groups) andalso is_map(O);
valid_step({isolate, Node, O}) -> is_atom(Node) andalso is_map(O);
valid_step({one_way, From, To, O}) -> is_atom(From) andalso is_atom(To) andalso is_map(O);
valid_step({pause, Node, O}) -> is_atom(Node) andalso is_map(O);
valid_step({kill_node, Node, O}) -> is_atom(Node) andalso is_map(O);
valid_step({kill_process, Node, {K, Name}, O}) when K =:= name; K =:= supervisor ->
    is_atom(Node) andalso is_atom(Name) andalso is_map(O);
valid_step({stress, Node, O}) -> is_atom(Node) andalso is_map(O);
valid_step(heal_all) -> true;
valid_step(_) -> false.

%%% The coordinator: starts everything, waits, runs the final operations, cleans up.

coordinator(Caller, C) ->
    process_flag(trap_exit, true),
    CallerRef = monitor(process, Caller),
    exit({?MODULE, with_recorder(C, fun(Rec) -> coordinate(C#{recorder => Rec, caller => CallerRef}) end)}).

with_recorder(#{recorder := Rec}, Run) ->
    Run(Rec);
with_recorder(#{history := File}, Run) ->
    case ticksplit_ops:open(File) of
        {ok, Rec} ->
            try Run(Rec) after ticksplit_ops:close(Rec) end;
        {error, Why} ->
            {error, {history, Why}}
    end.

coordinate(#{recorder := Rec, nodes := Nodes, clients := N, seed := Seed} = C0) ->
    Base = maps:get(process_base, C0, ticksplit_ops:next_process(Rec)),
    C = C0#{unique => atomics:new(1, []), coordinator => self()},
    Start0 = #{kind => run_start, source => ticksplit_workload, seed => Seed, nodes => Nodes,
               clients => N, first_process => Base},
    ok = ticksplit_ops:event(Rec, case window(C) of
                                      {Min, Max} -> Start0#{window_ms => [Min, Max]};
                                      undefined -> Start0
                                  end),
    case start_nemesis(C) of
        {ok, Nemesis} ->
            Workers = [{spawn_link(fun() -> worker(C, I, Base + I) end), node_of(I, Nodes)}
                       || I <- lists:seq(0, N - 1)],
            case opened(Workers, []) of
                ok -> started(C, Nemesis, Workers);
                {error, _} = Error ->
                    [W ! {?MODULE, stop} || {W, _} <- Workers],
                    ok = wait_workers([W || {W, _} <- Workers], now_ms() + maps:get(stop_grace_ms, C)),
                    stop_nemesis(Nemesis),
                    Error
            end;
        Error ->
            Error
    end.

node_of(I, Nodes) -> lists:nth(I rem length(Nodes) + 1, Nodes).

%% The first node's detection window, for the checker's attribution, when there are faults.
window(#{nemesis := []}) -> undefined;
window(#{fault_api := Api, nodes := [Node | _]}) ->
    case Api:window(Node) of
        {ok, {_, _} = W} -> W;
        _ -> undefined
    end.

start_nemesis(#{nemesis := [], subscribe := false}) ->
    {ok, none};
start_nemesis(#{fault_api := Api, nodes := Nodes, recorder := Rec, nemesis := Steps,
                subscribe := Sub, heal_grace_ms := Grace}) ->
    ticksplit_nemesis:start_link(#{api => Api, nodes => Nodes, recorder => Rec, steps => Steps,
                                   subscribe => Sub, heal_grace_ms => Grace}).

stop_nemesis(none) -> ok;
stop_nemesis(Pid) -> ticksplit_nemesis:stop(Pid).

%% Every client opened, or the first that could not.
opened([], Failed) ->
    case Failed of
        [] -> ok;
        [First | _] -> {error, First}
    end;
opened(Workers, Failed) ->
    receive
        {?MODULE, W, opened} -> opened(lists:keydelete(W, 1, Workers), Failed);
        {?MODULE, W, {open_failed, Why}} ->
            {W, Node} = lists:keyfind(W, 1, Workers),
            opened(lists:keydelete(W, 1, Workers), [{client_open, Node, Why} | Failed]);
        {'EXIT', W, Why} when is_pid(W) ->
            case lists:keyfind(W, 1, Workers) of
                {W, Node} -> opened(lists:keydelete(W, 1, Workers), [{client_open, Node, Why} | Failed]);
                false when Why =:= normal -> opened(Workers, Failed);
                false -> opened(Workers, [{crashed, Why} | Failed])     % the nemesis, the recorder
            end
    end.

started(#{duration_ms := D} = C, Nemesis, Workers) ->
    Start = now_ms(),
    Deadline = Start + D,
    [W ! {?MODULE, go, Deadline} || {W, _} <- Workers],
    NemesisLeft = case Nemesis of
                      none -> false;
                      _ -> ticksplit_nemesis:go(Nemesis), true
                  end,
    Wait = #{workers => [W || {W, _} <- Workers], nemesis => Nemesis,
             ok => 0, fail => 0, info => 0, processes => #{},
             nemesis_left => NemesisLeft, nemesis_result => {done, []}, stopped => false,
             kill_at => Deadline + stop_margin(C), crashed => [], killed => #{},
             poll_at => Start},
    W1 = wait(C, Wait),
    finish(C, drain_tally(W1)).

%% Until every client has stopped and the nemesis is done. Times are absolute (a steady
%% stream of messages must not postpone the `until' poll or the kill).
wait(_, #{workers := [], nemesis_left := false} = W) ->
    W;
wait(C, #{workers := Ws, kill_at := KillAt} = W) when Ws =/= [] ->
    case now_ms() >= KillAt of
        true -> wait(C, kill(C, W));
        false -> poll(C, W)
    end;
wait(C, W) ->
    poll(C, W).

poll(#{until := Until} = C, #{stopped := false, poll_at := PollAt} = W) ->
    Now = now_ms(),
    case Now >= PollAt of
        true ->
            case Until() of
                true -> wait(C, stop_clients(C, W));
                _ -> wait(C, W#{poll_at := Now + ?POLL_MS})
            end;
        false ->
            await(C, W, PollAt)
    end;
poll(C, W) ->
    await(C, W, infinity).

await(C, #{workers := Ws, kill_at := KillAt, nemesis := Nemesis} = W, PollAt) ->
    Until = case Ws of
                [] -> PollAt;
                _ -> min(PollAt, KillAt)
            end,
    Timeout = case Until of
                  infinity -> infinity;
                  _ -> max(0, Until - now_ms())
              end,
    receive
        {?MODULE, _, {op, _, _} = Op} ->
            wait(C, tally(Op, W));
        {?MODULE, Pid, done} ->
            wait(C, W#{workers := Ws -- [Pid]});
        {ticksplit_nemesis, Nemesis, Result} ->
            W1 = W#{nemesis_left := false, nemesis_result := Result},
            case Result of
                {failed, _, _} -> wait(C, stop_clients(C, W1));
                {done, _} -> wait(C, W1)
            end;
        {'EXIT', Pid, Why} when Why =:= normal; Why =:= killed, is_map_key(Pid, map_get(killed, W)) ->
            wait(C, W);
        {'EXIT', Pid, Why} when is_pid(Pid) ->
            %% A client's or the nemesis's crash: stop the rest and report it.
            W1 = W#{workers := Ws -- [Pid], crashed := [{Pid, Why} | maps:get(crashed, W)]},
            W2 = case Pid =:= Nemesis of
                     true -> W1#{nemesis_left := false, nemesis := none};
                     false -> W1
                 end,
            wait(C, stop_clients(C, W2));
        {'DOWN', Ref, process, _, _} when Ref =:= map_get(caller, C) ->
            %% The caller is gone: so is the run (linked clients and nemesis with it).
            exit(caller_gone)
    after Timeout ->
            wait(C, W)
    end.

stop_clients(_, #{stopped := true} = W) ->
    W;
stop_clients(C, #{workers := Ws, nemesis := Nemesis, kill_at := KillAt} = W) ->
    [Pid ! {?MODULE, stop} || Pid <- Ws],
    _ = [ticksplit_nemesis:skip_rest(Nemesis) || Nemesis =/= none],
    W#{stopped := true, kill_at := min(KillAt, now_ms() + stop_margin(C))}.

%% How long a client may still take after it should have stopped: its operation's timeout
%% (and the runner's 50 ms on top), then the grace for closing.
stop_margin(#{timeout_ms := T, stop_grace_ms := G}) -> T + 50 + G.

kill(#{recorder := Rec}, #{workers := Ws, killed := Killed} = W) ->
    [exit(Pid, kill) || Pid <- Ws],
    _ = ticksplit_ops:note(Rec, "workload: ~b client(s) did not stop in time (stuck in open or close); killed",
                           [length(Ws)]),
    W#{workers := [], killed := maps:merge(Killed, maps:from_keys(Ws, true))}.

%% Each operation's outcome, as a client reports it (so a client killed later is counted).
tally({op, Type, P}, #{processes := Ps} = W) ->
    W#{Type := maps:get(Type, W) + 1, processes := Ps#{P => true}}.

%% Those a killed client sent before it was killed.
drain_tally(W) ->
    receive {?MODULE, _, {op, _, _} = Op} -> drain_tally(tally(Op, W))
    after 0 -> W
    end.

wait_workers([], _) -> ok;
wait_workers(Ws, KillAt) ->
    receive
        {?MODULE, Pid, done} -> wait_workers(Ws -- [Pid], KillAt);
        {'EXIT', Pid, _} -> wait_workers(Ws -- [Pid], KillAt)
    after max(0, KillAt - now_ms()) ->
            [exit(Pid, kill) || Pid <- Ws],
            ok
    end.

finish(C, #{nemesis := Nemesis, nemesis_result := NemesisResult, crashed := Crashed} = W) ->
    case {Crashed, NemesisResult} of
        {[{_, Why} | _], _} ->
            stop_nemesis(Nemesis),
            {error, {crashed, Why}};
        {[], {failed, {Step, Why}, _}} ->
            stop_nemesis(Nemesis),
            {error, {nemesis, Step, Why}};
        {[], {failed, Why, _}} ->
            stop_nemesis(Nemesis),
            {error, {nemesis, Why}};
        {[], {done, Faults}} ->
            Final = final_ops(C),
            stop_nemesis(Nemesis),
            {ok, summary(C, W, Faults, Final)}
    end.

summary(C, W, Faults, Final) ->
    Outcomes = [O || #{outcome := O} <- Final],
    Count = fun(K) -> maps:get(K, W) + length([T || {T, _} <- Outcomes, T =:= K]) end,
    FinalProcesses = length([O || {T, _} = O <- Outcomes, T =/= error]),
    #{ops => Count(ok) + Count(fail) + Count(info), ok => Count(ok), fail => Count(fail),
      info => Count(info), processes => map_size(maps:get(processes, W)) + FinalProcesses,
      history => maps:get(history, C, undefined), faults => Faults, final => Final}.

%%% Final operations: one per key, each on a fresh process and a fresh client.

final_ops(#{final := []}) ->
    [];
final_ops(#{final := Finals, recorder := Rec, nodes := Nodes} = C) ->
    ok = ticksplit_ops:note(Rec, <<"workload: final operations">>),
    Keys = case C of
               #{keys := Ks} -> [{key, K} || K <- Ks];
               _ -> [none]
           end,
    Todo = [{F, G, K} || {F, G} <- Finals, K <- Keys],
    [bounded_final_op(C, Op, node_of(I, Nodes)) || {I, Op} <- lists:zip(lists:seq(0, length(Todo) - 1), Todo)].

%% A final operation opens, runs and closes a client of its own: bounded as the clients are
%% (a client whose open or close hangs must not hang the run), in a process of its own as the
%% client behaviour promises.
bounded_final_op(#{recorder := Rec} = C, {F, _, Key} = Op, Node) ->
    {Pid, Ref} = spawn_monitor(fun() -> exit({?MODULE, final_op(C, Op, Node)}) end),
    receive
        {'DOWN', Ref, process, Pid, {?MODULE, Final}} -> Final
    after stop_margin(C) ->
            exit(Pid, kill),
            receive {'DOWN', Ref, process, Pid, _} -> ok end,
            _ = ticksplit_ops:note(Rec, "workload: final ~s on ~s did not end in time (stuck in open, invoke "
                                        "or close); killed", [F, Node]),
            with_key(#{f => F, node => Node, outcome => {error, stuck}}, Key)
    end.

final_op(#{recorder := Rec, client := {Mod, COpts}} = C, {F, G, Key}, Node) ->
    P = ticksplit_ops:next_process(Rec),
    Outcome = case open_client(Mod, Node, COpts) of
                  {ok, CS} ->
                      O = operation(C, P, F, value(G, C), Key, Node, Mod, CS),
                      close_client(Mod, CS),
                      O;
                  {error, Why} ->
                      _ = ticksplit_ops:note(Rec, "workload: final ~s on ~s not run: open failed: ~0tp",
                                             [F, Node, Why]),
                      {error, {client_open, Node, Why}}
              end,
    with_key(#{f => F, node => Node, outcome => Outcome}, Key).

with_key(Final, {key, K}) -> Final#{key => K};
with_key(Final, none) -> Final.

%%% Clients

worker(#{client := {Mod, COpts}, nodes := Nodes, coordinator := Coord} = C, I, P) ->
    Node = node_of(I, Nodes),
    rand:seed(exsss, {maps:get(seed, C), I + 1, 16#7469636b}),
    case open_client(Mod, Node, COpts) of
        {ok, CS} ->
            Coord ! {?MODULE, self(), opened},
            receive
                {?MODULE, go, Deadline} ->
                    Interval = interval_ms(C),
                    First = now_ms() + rand:uniform() * Interval,
                    S = #{node => Node, mod => Mod, copts => COpts, cs => CS, process => P,
                          deadline => Deadline, interval => Interval, next => First,
                          failing => false},
                    _ = loop(C, S),
                    Coord ! {?MODULE, self(), done};
                {?MODULE, stop} ->
                    close_client(Mod, CS),
                    Coord ! {?MODULE, self(), done}
            end;
        {error, Why} ->
            Coord ! {?MODULE, self(), {open_failed, Why}}
    end.

interval_ms(#{clients := N, rate := Rate}) -> N * 1000 / Rate.

loop(C, #{deadline := Deadline, next := Next} = S) ->
    case now_ms() >= Deadline orelse Next >= Deadline of
        true -> stop(S);
        false ->
            receive
                {?MODULE, stop} -> stop(S)
            after max(0, ceil(Next - now_ms())) ->
                    step(C, S#{next := max(now_ms(), Next + maps:get(interval, S))})
            end
    end.

stop(#{mod := Mod, cs := CS} = S) ->
    _ = [close_client(Mod, CS) || CS =/= none],
    S.

%% One operation, or one attempt to reopen the client.
step(C, #{cs := none, mod := Mod, node := Node, copts := COpts} = S) ->
    case open_client(Mod, Node, COpts) of
        {ok, CS} -> loop(C, S#{cs := CS, failing := false});
        {error, Why} ->
            _ = [note_open_failed(C, Node, Why) || not maps:get(failing, S)],   % once per streak
            loop(C, S#{failing := true})
    end;
step(#{ops := Ops, clients := N, coordinator := Coord} = C,
     #{process := P, node := Node, mod := Mod, cs := CS} = S) ->
    {F, G} = pick(Ops),
    Key = case C of
              #{keys := {rotate_ms, Ms}, duration_ms := D} ->
                  {key, (now_ms() - (maps:get(deadline, S) - D)) div Ms};
              #{keys := Keys} -> {key, lists:nth(rand:uniform(length(Keys)), Keys)};
              _ -> none
          end,
    Outcome = operation(C, P, F, value(G, C), Key, Node, Mod, CS),
    Type = element(1, Outcome),
    Coord ! {?MODULE, self(), {op, Type, P}},
    case Type of
        info ->
            %% A new process on a new client, opened at once (then at the rate if that fails).
            close_client(Mod, CS),
            step(C, S#{process := P + N, cs := none});
        _ ->
            loop(C, S)
    end.

operation(#{recorder := Rec, timeout_ms := T}, P, F, V, Key, Node, Mod, CS) ->
    Op0 = #{f => F, value => V},
    {Op, Opts} = case Key of
                     {key, K} -> {Op0#{key => K}, #{key => K}};
                     none -> {Op0, #{}}
                 end,
    case ticksplit_ops:with(Rec, P, F, V, fun() -> Mod:invoke(Op, T, CS) end,
                            Opts#{node => Node, timeout_ms => T + 50}) of
        {error, Why} -> exit({recorder_refused, Why});
        Outcome -> Outcome
    end.

note_open_failed(#{recorder := Rec}, Node, Why) ->
    ticksplit_ops:note(Rec, "workload: reopening a client on ~s failed: ~0tp; retrying", [Node, Why]).

open_client(Mod, Node, COpts) ->
    try Mod:open(Node, COpts) of
        {ok, CS} -> {ok, CS};
        {error, Why} -> {error, Why};
        Other -> {error, {bad_return, Other}}
    catch Class:Reason -> {error, {Class, Reason}}
    end.

close_client(Mod, CS) ->
    try Mod:close(CS) catch _:_ -> ok end,
    ok.

%%% Generators

pick(Ops) ->
    Total = lists:sum([W || {W, _, _} <- Ops]),
    pick(rand:uniform(Total), Ops).

pick(N, [{W, F, G} | _]) when N =< W -> {F, G};
pick(N, [{W, _, _} | Rest]) -> pick(N - W, Rest).

value(unique, #{unique := U}) -> atomics:add_get(U, 1, 1);
value({random, Lo, Hi}, _) when is_integer(Lo), is_integer(Hi), Hi >= Lo -> Lo + rand:uniform(Hi - Lo + 1) - 1;
value(F, _) when is_function(F, 0) -> F();
value(Constant, _) -> Constant.

now_ms() -> erlang:monotonic_time(millisecond).
