#!/usr/bin/env escript
%%! -hidden
%% The demo's driver (scripts/demo), run in the control namespace as a hidden node:
%%   demo.escript start EBIN     loads demo_singleton (and the ticksplit_register_server it
%%                               answers register requests with) onto the app nodes, starts it on
%%                               app@198.51.100.11 first (so the singleton lives there), then
%%                               on the others
%%   demo.escript workload EBIN OPS STOP
%%                               six clients (two per node) read and write the registers the
%%                               singleton holds (a fresh key every second), through each
%%                               node's own view of global, recording every operation in OPS,
%%                               until the file STOP exists
%%   demo.escript report FAULTS VERDICT
%%                               waits until the cluster has settled on one singleton, then
%%                               prints what happened to it and to the clients' operations,
%%                               against the faults of the run (FAULTS: lines "Number StartUs
%%                               EndUs Class Ms Nodedowns Ops Anomalies", made by scripts/demo
%%                               from the history and the checker's report; VERDICT: the
%%                               checker's verdict and its first anomaly)
-mode(compile).
-include("escript_lib.hrl").

-define(HOSTS, [1, 2, 3]).

main(["start", Ebin]) ->
    start_dist("demo_"),
    true = code:add_patha(Ebin),
    Nodes = [app(I) || I <- ?HOSTS],
    ok = ticksplit_workload:load_modules(Nodes, [ticksplit_register_server]),   % the register protocol
    load_module(),
    {ok, _} = rpc:call(app(1), demo_singleton, start, [Nodes, 100]),
    await(fun() -> is_pid(rpc:call(app(1), demo_singleton, whereis, [])) end, singleton_started),
    [{ok, _} = rpc:call(app(I), demo_singleton, start, [Nodes, 100]) || I <- tl(?HOSTS)],
    Where = node(rpc:call(app(1), demo_singleton, whereis, [])),
    io:format("the global singleton 'demo_singleton' runs on ~s; every node re-creates it when "
              "global says it is missing~n", [Where]);

main(["workload", Ebin, OpsFile, StopFile]) ->
    start_dist("demo_clients_"),
    true = code:add_patha(Ebin),
    Nodes = [app(I) || I <- ?HOSTS],
    {ok, #{ok := Ok, fail := Fail, info := Info}} =
        ticksplit_workload:run(#{client => {ticksplit_register_client, #{target => {global, demo_singleton}}},
                                 nodes => Nodes, clients => 6, rate => 60, timeout_ms => 500,
                                 duration_ms => 600000, until => fun() -> filelib:is_file(StopFile) end,
                                 ops => [{2, read, null}, {1, write, unique}],
                                 keys => {rotate_ms, 1000}, history => OpsFile}),
    io:format("clients: ~b ok, ~b failed, ~b indeterminate (timed out or lost their node)~n",
              [Ok, Fail, Info]);

main(["report", FaultsFile, VerdictFile]) ->
    start_dist("demo_"),
    Nodes = [app(I) || I <- ?HOSTS],
    settled(Nodes),
    Log = lists:sort(lists:append([rpc:call(N, demo_singleton, log, []) || N <- Nodes])),
    Faults = read_faults(FaultsFile),
    {ok, Verdict} = file:read_file(VerdictFile),
    report(Log, Faults, rpc:call(app(1), demo_singleton, whereis, []), string:trim(Verdict));

main(_) ->
    io:format(standard_error, "usage: demo.escript start EBIN | workload EBIN OPS STOP | report FAULTS VERDICT~n", []),
    halt(2).

load_module() ->
    Src = filename:join(filename:dirname(escript:script_name()), "demo_singleton.erl"),
    {ok, demo_singleton, Bin} = compile:file(Src, [binary, report]),
    [{module, demo_singleton} = rpc:call(app(I), code, load_binary, [demo_singleton, "demo_singleton.erl", Bin])
     || I <- ?HOSTS].

%% A full mesh again, and every node's global agreeing on one live singleton.
settled(Nodes) ->
    await(fun() ->
                  Meshed = lists:all(fun(N) -> Nodes -- [N | rpc:call(N, erlang, nodes, [])] =:= [] end, Nodes),
                  Views = lists:usort([rpc:call(N, demo_singleton, whereis, []) || N <- Nodes]),
                  Meshed andalso case Views of
                                     [P] when is_pid(P) -> rpc:call(node(P), erlang, is_process_alive, [P]);
                                     _ -> false
                                 end
          end, cluster_settled).

read_faults(File) ->
    {ok, Text} = file:read_file(File),
    [begin
         [N, S, E, C, Ms, Downs, Ops, Anomalies] = [binary_to_list(F) || F <- string:lexemes(Line, " ")],
         #{n => list_to_integer(N), start => list_to_integer(S), 'end' => list_to_integer(E),
           class => side(C), ms => list_to_integer(Ms), downs => list_to_integer(Downs),
           ops => list_to_integer(Ops), anomalies => list_to_integer(Anomalies)}
     end || Line <- string:lexemes(Text, "\n")].

%% "above_window" (the history's window_class) -> "above", for "(above the window, ...)".
side(Class) -> string:replace(Class, "_window", "", trailing).

%%% The report

report(Log, Faults, Final, Verdict) ->
    T0 = case {Log, Faults} of
             {[{T, _, _} | _], _} -> T;
             {[], [#{start := S} | _]} -> S
         end,
    io:format("~n== what happened to the singleton (seconds since it first started)~n"),
    Marks = [{S, {fault_start, F}} || #{start := S} = F <- Faults] ++
            [{E, {fault_end, F}} || #{'end' := E} = F <- Faults, E > 0],
    Timeline = lists:keysort(1, [{T, {log, Node, Ev}} || {T, Node, Ev} <- Log] ++ Marks),
    lists:foldl(fun(Item, Alive) -> line(T0, Item, Alive) end, #{}, Timeline),
    io:format("~n== in short~n"),
    Lives = lives(Log),
    [verdict(F, Faults, Lives, Log) || F <- Faults],
    io:format("  now: one singleton, on ~s (~b created in all)~n", [node(Final), length(Lives)]),
    case string:split(Verdict, " ") of
        [V, Detail] when Detail =/= <<>> -> io:format("  clients' register: ~s: ~s~n", [V, Detail]);
        [V | _] -> io:format("  clients' register: ~s~n", [V])
    end.

%% Per fault: its nodedowns, and the singletons created while it split the cluster (the
%% fault is the last one that began before them).
verdict(#{n := N, class := C, ms := Ms, downs := Downs, ops := Ops, anomalies := Anomalies} = F,
        Faults, Lives, Log) ->
    Mine = [L || {_, S, _} = L <- Lives, fault_before(S, Faults) =:= F],
    io:format("  fault ~b (~s the window, ~b ms): ~s; ~s; clients: ~b operations around it, ~s~n",
              [N, C, Ms, case Downs of 0 -> "no nodedown"; _ -> io_lib:format("~b nodedowns", [Downs]) end,
               case Mine of
                   [] -> "one singleton throughout";
                   _ -> lists:join("; ", [second(L, Lives, Log) || L <- Mine])
               end, Ops,
               case Anomalies of
                   0 -> "no anomaly";
                   1 -> "ANOMALOUS (named in 1 anomaly)";
                   _ -> io_lib:format("ANOMALOUS (named in ~b anomalies)", [Anomalies])
               end]).

second({P, S, E}, Lives, Log) ->
    Overlap = covered(lists:sort([{max(S, S2), min(E, E2)} || {P2, S2, E2} <- Lives, P2 =/= P,
                                                                 max(S, S2) < min(E, E2)])),
    Fate = case [{R, Runs} || {_, _, {stopped, Q, R, Runs}} <- Log, Q =:= P] of
               [{killed, Runs}] -> io_lib:format(", killed by global's name-clash resolution after ~b job runs", [Runs]);
               [{R, Runs}] -> io_lib:format(", stopped (~p) after ~b job runs", [R, Runs]);
               [] -> ", still running"
           end,
    io_lib:format("another singleton on ~s ran alongside for ~.2f s~s", [node(P), Overlap / 1.0e6, Fate]).

%% The length of a union of sorted intervals.
covered([]) -> 0;
covered([{S, E}, {S2, E2} | Rest]) when S2 =< E -> covered([{S, max(E, E2)} | Rest]);
covered([{S, E} | Rest]) -> E - S + covered(Rest).

line(T0, {T, {fault_start, #{n := N, class := C, ms := Ms}}}, Alive) ->
    io:format("  ~8.3f  fault ~b (~s the window, ~b ms) begins~n", [secs(T, T0), N, C, Ms]),
    Alive;
line(T0, {T, {fault_end, #{n := N}}}, Alive) ->
    io:format("  ~8.3f  fault ~b healed~n", [secs(T, T0), N]),
    Alive;
line(T0, {T, {log, Node, {started, P}}}, Alive) ->
    Now = Alive#{P => true},
    io:format("  ~8.3f  singleton started on ~s~s~n",
              [secs(T, T0), Node, alive_note(maps:size(Now))]),
    Now;
line(T0, {T, {log, Node, {stopped, P, Reason, Runs}}}, Alive) ->
    io:format("  ~8.3f  singleton on ~s stopped (~p) after ~b job runs~n", [secs(T, T0), Node, Reason, Runs]),
    maps:remove(P, Alive);
line(T0, {T, {log, Node, {clash, P1, P2, Kept}}}, Alive) ->
    [Lost] = [P1, P2] -- [Kept],
    io:format("  ~8.3f  global on ~s found two singletons (~s, ~s): keeps ~s, kills ~s~n",
              [secs(T, T0), Node, node(P1), node(P2), node(Kept), node(Lost)]),
    Alive.

alive_note(1) -> "";
alive_note(N) -> io_lib:format("   <- ~b singletons alive: split brain", [N]).

secs(T, T0) -> (T - T0) / 1.0e6.

%% {Pid, StartUs, EndUs} for every singleton; still running: ends now.
lives(Log) ->
    Now = erlang:system_time(microsecond),
    [{P, S, case [E || {E, _, {stopped, Q, _, _}} <- Log, Q =:= P] of [E | _] -> E; [] -> Now end}
     || {S, _, {started, P}} <- Log].

fault_before(T, Faults) ->
    case lists:reverse([F || #{start := S} = F <- Faults, S =< T]) of
        [] -> none;
        [F | _] -> F
    end.
