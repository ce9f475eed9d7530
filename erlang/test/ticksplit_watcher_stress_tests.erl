%% The stress section of ticksplit_watcher, run in this VM (real max-priority hogs on its own
%% schedulers, real time): the report's figures, the hogs' own deadline without the sampler,
%% the early stop, one stress at a time, refusals. Windows are short (300 ms); the bounds on
%% time are loose, for a loaded host.
-module(ticksplit_watcher_stress_tests).

-include_lib("eunit/include/eunit.hrl").

-define(W, ticksplit_watcher).

now_us() -> os:system_time(microsecond).

hogs() ->
    [P || P <- processes(), process_info(P, initial_call) =:= {initial_call, {?W, stress_hog, 2}}].

%% What a failed test left (a sampler, hogs) would fail the next one: gone first.
clean() ->
    case whereis(ticksplit_stress) of
        undefined -> ok;
        S -> exit(S, kill)
    end,
    [exit(P, kill) || P <- hogs()],
    receive_all().

receive_all() ->
    receive _ -> receive_all() after 0 -> ok end.

report(Kind, Id, Timeout) ->
    receive {?W, Node, fault, Kind, Id, Props} when Node =:= node() -> maps:from_list(Props)
    after Timeout -> error({no_report, Kind, Id})
    end.

%% Busy during the window, idle after it; the hogs end by themselves at the deadline; the
%% figures are there, and a normal-priority process was starved for about the window.
window_test_() ->
    {timeout, 20, fun() ->
        clean(),
        Start = now_us() + 200000,
        End = Start + 300000,
        {ok, _} = ?W:stress(self(), <<"w1">>, Start, End, #{}),
        #{processes := N, started_us := S} = report(stress_started, <<"w1">>, 2000),
        %% this process runs at normal priority: a 50 ms sleep inside the window (once the hogs
        %% have bound themselves to their schedulers) ends only once they are gone
        receive after 50 -> ok end,
        Got = now_us(),
        ?assertEqual(2 * erlang:system_info(schedulers_online), N),
        ?assert(S >= Start),
        R = report(stress_ended, <<"w1">>, 5000),
        ?assertMatch(#{reason := deadline, started := true}, R),
        #{utilisation_during := UD, utilisation_after := UA, utilisation_before := UB, ended_us := Ended,
          normal_late_max_ms := Late, rtt_during_ms := {_, _, _, _}} = R,
        ?assert(UD > 0.9),
        ?assert(UA < 0.5),
        ?assert(is_float(UB)),
        ?assert(Ended >= End),
        ?assert(Late > 150.0),   % a 300 ms window: normal priority did not run for most of it
        ?assert(Got >= End),
        ?assertEqual([], hogs()),
        ?assertEqual(undefined, whereis(ticksplit_stress))
    end}.

%% The sampler killed mid-window (as if the node's watcher and everything linked to it went):
%% the hogs still end at the deadline.
hogs_end_without_the_sampler_test_() ->
    {timeout, 20, fun() ->
        clean(),
        process_flag(priority, max),   % to act inside the window: normal priority is starved
        Start = now_us() + 100000,
        End = Start + 1000000,
        {ok, Sampler} = ?W:stress(self(), <<"k1">>, Start, End, #{hogs => 1}),
        _ = report(stress_started, <<"k1">>, 2000),
        Hogs = hogs(),
        ?assertEqual(erlang:system_info(schedulers_online), length(Hogs)),
        exit(Sampler, kill),
        Refs = [monitor(process, P) || P <- Hogs],
        [receive {'DOWN', Ref, process, _, _} -> ok after 5000 -> error(hog_still_running) end || Ref <- Refs],
        ?assert(now_us() >= End),
        ?assertEqual([], hogs())
    end}.

%% A stop from the agent ends it early: the hogs are killed, reason request.
stop_test_() ->
    {timeout, 20, fun() ->
        clean(),
        process_flag(priority, max),
        Start = now_us() + 100000,
        End = Start + 5000000,
        {ok, _} = ?W:stress(self(), <<"s1">>, Start, End, #{hogs => 1}),
        _ = report(stress_started, <<"s1">>, 2000),
        ticksplit_stress ! {ticksplit_agent, {stress_stop, <<"s1">>}},
        R = report(stress_ended, <<"s1">>, 3000),
        ?assertMatch(#{reason := request, started := true}, R),
        ?assert(maps:get(ended_us, R) < End - 3000000),
        ?assertEqual([], hogs())
    end}.

%% Stopped before its start: no hog ever ran, and nothing of it is left running.
stop_before_start_test_() ->
    {timeout, 20, fun() ->
        clean(),
        Before = length(processes()),
        Start = now_us() + 1000000,
        {ok, Sampler} = ?W:stress(self(), <<"p1">>, Start, Start + 1000000, #{}),
        timer:sleep(50),
        ticksplit_stress ! {ticksplit_agent, {stress_stop, <<"p1">>}},
        ?assertMatch(#{reason := request, started := false}, report(stress_ended, <<"p1">>, 2000)),
        Ref = monitor(process, Sampler),
        receive {'DOWN', Ref, process, _, _} -> ok after 2000 -> error(sampler_left) end,
        timer:sleep(50),
        ?assertEqual(Before, length(processes())),   % no prober, no sleeper left
        ?assert(now_us() < Start)
    end}.

%% One stress at a time per node; what cannot be run is refused at once.
refusals_test_() ->
    {timeout, 20, fun() ->
        clean(),
        Start = now_us() + 100000,
        {ok, _} = ?W:stress(self(), <<"a1">>, Start, Start + 300000, #{hogs => 1}),
        {ok, _} = ?W:stress(self(), <<"a2">>, Start, Start + 300000, #{hogs => 1}),
        ?assertMatch(#{started := false, error := <<"already stressed">>}, report(stress_ended, <<"a2">>, 2000)),
        ?assertMatch(#{reason := deadline}, report(stress_ended, <<"a1">>, 5000)),
        ?assertEqual({error, {bad_hogs, 0}}, ?W:stress(self(), <<"b">>, Start, Start + 1000, #{hogs => 0})),
        ?assertEqual({error, {bad_hogs, 17}}, ?W:stress(self(), <<"b">>, Start, Start + 1000, #{hogs => 17})),
        ?assertEqual({error, bad_window}, ?W:stress(self(), <<"b">>, Start, Start, #{})),
        ?assertEqual({error, already_over}, ?W:stress(self(), <<"b">>, 0, 1000, #{})),
        ?assertEqual({error, badarg}, ?W:stress(self(), "b", Start, Start + 1000, #{}))
    end}.

%% Through the watcher's loop (the channel's command): the stress runs and reports to the
%% agent's name; one the node refuses is rejected with the reason.
command_through_the_loop_test_() ->
    {timeout, 20, fun() ->
        clean(),
        register(tss_agent, self()),
        Watcher = spawn(fun() -> ticksplit_watcher:loop(node(), tss_agent) end),
        Start = now_us() + 100000,
        Watcher ! {ticksplit_agent, {stress, <<"c1">>, Start, Start + 200000, #{hogs => 1}}},
        Watcher ! {ticksplit_agent, {stress, <<"c2">>, Start, Start + 200000, #{hogs => 99}}},
        Node = node(),
        Got = [receive {?W, Node, fault, Kind, Id, Props} -> {Id, Kind, maps:from_list(Props)}
               after 5000 -> error(no_report) end || _ <- [1, 2, 3]],
        unregister(tss_agent),
        exit(Watcher, kill),
        ?assertMatch({_, rejected, #{command := stress, error := <<"{bad_hogs,99}">>}},
                     lists:keyfind(<<"c2">>, 1, Got)),
        ?assertMatch([{<<"c1">>, stress_started, _}, {<<"c1">>, stress_ended, #{reason := deadline}}],
                     [G || {<<"c1">>, _, _} = G <- Got])
    end}.
