#!/usr/bin/env escript
%%! -hidden
%% Call-timeout classes on a real 3-host cluster with a large net_ticktime (scripts/cluster up 3
%% with TICKSPLIT_TICKTIME=20, window 15-25 s): ticksplit-ctl runs a schedule with
%% `call_timeout: 1s' that isolates app2, which serves a gen_server-style echo (ts_probe), for a
%% drop drawn from CLASS, while app1 calls it every 20 ms with a 1 s timeout, each call in a
%% process of its own. The calls must do what the class says, and no node may go down.
%% Runs in the control namespace. Usage: call_timeout_cases.escript CLASS CTL STATE_DIR.
-mode(compile).
-include("../../scripts/lib/escript_lib.hrl").

-define(TIMEOUT_MS, 1000).
-define(INTERVAL_MS, 20).

main([Class, Ctl, StateDir]) ->
    start_dist("c_" ++ Class ++ "_"),
    try
        ok = run(list_to_atom(Class), Ctl, StateDir),
        io:format("PASS ~s~n", [Class]),
        halt(0)
    catch
        C:Reason:Stack ->
            io:format("FAIL ~s: ~p:~p~n  ~p~n", [Class, C, Reason, Stack]),
            [catch call(agent(I), heal) || I <- [1, 2, 3]],
            halt(1)
    end.

run(Class, Ctl, StateDir) ->
    load_probe([1, 2]),
    {ok, _} = rpc:call(app(2), ts_probe, echo_server, []),
    {ok, Caller} = rpc:call(app(1), ts_probe, caller, [app(2), ?TIMEOUT_MS, ?INTERVAL_MS]),
    Dir = string:trim(os:cmd("mktemp -d")),
    Schedule = filename:join(Dir, "s.yaml"),
    History = filename:join(Dir, "h.jsonl"),
    ok = file:write_file(Schedule, io_lib:format(
        "agents: [~s, ~s, ~s]~ncall_timeout: 1s~nsteps:~n  - isolate: ~s~n    for: ~s~n  - wait: 2s~n",
        [agent(1), agent(2), agent(3), app(2), Class])),
    timer:sleep(500),  % calls before the fault: the link is warm and calls complete
    Out = os:cmd(Ctl ++ " run " ++ Schedule ++ " --cookie-file " ++ StateDir ++ "/cookie --history " ++ History ++
                 " 2>&1; echo \"exit status $?\""),
    io:format("~s", [Out]),
    expect(string:find(Out, "exit status 0") =/= nomatch, ctl_failed),
    Calls = rpc:call(app(1), ts_probe, caller_results, [Caller]),
    Lines = [L || L <- string:split(read(History), "\n", all), L =/= ""],
    [Start] = [L || L <- Lines, string:find(L, "\"kind\":\"fault_start\"") =/= nomatch],
    [End] = [L || L <- Lines, string:find(L, "\"kind\":\"fault_end\"") =/= nomatch],
    S = field(Start, "time_us"),
    D = field(Start, "requested_ms"),
    E = S + D * 1000,
    expect(string:find(Start, "\"call_class\":\"" ++ atom_to_list(Class) ++ "\"") =/= nomatch, no_call_class),
    expect(field(Start, "call_timeout_ms") =:= ?TIMEOUT_MS, no_call_timeout),
    Downs = [L || L <- Lines, string:find(L, "\"kind\":\"nodedown\"") =/= nomatch],
    %% app1's agent: the first packet from app2 after the window (the caller's link; the idle
    %% app2-app3 link has nothing to send until its next tick)
    {match, [OutageText]} = re:run(End, "\"" ++ atom_to_list(agent(1)) ++ "\":\\{[^}]*\"effective_outage_us\":([0-9]+)",
                                   [{capture, all_but_first, list}]),
    Outage = list_to_integer(OutageText),
    Late = [{Sent, Done, R} || {Sent, Done, R} <- Calls, Done >= S, Sent =< E + 2000000],
    TimedOut = [Sent || {Sent, _, timeout} <- Calls],
    Latencies = [Done - Sent || {Sent, Done, ok} <- Late],
    MaxLatency = lists:max([0 | Latencies]),
    io:format("  ~s: drop ~w ms, effective outage ~.1f ms (app1's link); ~w calls around it, ~w timed out, "
              "slowest completed in ~.1f ms; nodedowns: ~w~n",
              [Class, D, Outage / 1000, length(Late), length(TimedOut), MaxLatency / 1000, length(Downs)]),
    expect(Downs =:= [], {nodedowns, Downs}),
    expect(length(Calls) > 50, too_few_calls),
    expect([R || {_, _, R} <- Calls, R =/= ok, R =/= timeout] =:= [], {other_results, Calls}),
    check(Class, D, S, E, Calls, TimedOut, MaxLatency),
    os:cmd("rm -rf " ++ Dir),
    ok.

%% Every call in flight completes, late: the one sent just after the start waits out the drop.
check(below_call_timeout, D, _, _, _, TimedOut, MaxLatency) ->
    expect(TimedOut =:= [], {timed_out, TimedOut}),
    expect(MaxLatency >= (D - 2 * ?INTERVAL_MS) * 1000, {not_delayed, MaxLatency}),
    ok;
%% A call sent inside the window more than the timeout before its end cannot be answered in
%% time (nothing passes until the end): every one of them times out. Calls well after the
%% window complete again.
check(above_call_timeout, _, S, E, Calls, _, _) ->
    Doomed = [{Sent, R} || {Sent, _, R} <- Calls, Sent >= S + 5000, Sent =< E - (?TIMEOUT_MS + 5) * 1000],
    expect(length(Doomed) >= 3, {too_few_calls_in_window, Doomed}),
    expect([X || {_, R} = X <- Doomed, R =/= timeout] =:= [], {answered_in_time, Doomed}),
    After = [R || {Sent, _, R} <- Calls, Sent >= E + 1500000],
    expect(After =/= [] andalso lists:all(fun(R) -> R =:= ok end, After), {not_back, After}),
    ok;
%% A race by design: printed, not asserted (the figures are in docs/tick-window.md).
check(around_call_timeout, _, _, _, _, _, _) ->
    ok.

field(Line, Key) ->
    {match, [V]} = re:run(Line, "\"" ++ Key ++ "\":(-?[0-9]+)", [{capture, all_but_first, list}]),
    list_to_integer(V).

load_probe(Hosts) ->
    Src = filename:join(filename:dirname(escript:script_name()), "ts_probe.erl"),
    {ok, ts_probe, Bin} = compile:file(Src, [binary, report]),
    [begin
         rpc:call(app(I), code, purge, [ts_probe]),
         {module, ts_probe} = rpc:call(app(I), code, load_binary, [ts_probe, "ts_probe.erl", Bin])
     end || I <- Hosts],
    ok.

read(File) -> {ok, B} = file:read_file(File), binary_to_list(B).
