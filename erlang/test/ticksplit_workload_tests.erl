%% The workload runner on this node alone: clients of a register in ETS
%% (ticksplit_local_register_client), the nemesis against a fake fault API
%% (ticksplit_fake_faults). No cluster, no agents.
-module(ticksplit_workload_tests).
-include_lib("eunit/include/eunit.hrl").

-define(CLIENT(Opts), {ticksplit_local_register_client, Opts}).

%%% Runs

%% Operations of every kind on two keys, then a final read per key: counts, keys, nodes,
%% process discipline.
basic_run_test() ->
    with_run(fun(File, Tab) ->
        %% until 40 operations (a loaded machine may need longer than their 200 ms)
        Until = fun() -> line_count(File) >= 1 + 2 * 40 end,
        {ok, Summary} =
            ticksplit_workload:run(#{client => ?CLIENT(#{table => Tab}), nodes => [node()],
                                     clients => 3, rate => 200, duration_ms => 20000, seed => 1,
                                     until => Until,
                                     keys => [a, b], history => File, final => [{read, null}],
                                     ops => [{2, read, null}, {1, write, unique},
                                             {1, cas, fun() -> {rand:uniform(3), rand:uniform(3)} end}]}),
        Lines = lines(File),
        Ops = ops(Lines),
        well_formed(Ops),
        #{ops := N, ok := Ok, fail := Fail, info := Info, processes := Ps, history := File,
          faults := [], final := Final} = Summary,
        ?assertEqual(N, length(completions(Ops))),
        ?assertEqual(N, Ok + Fail + Info),
        ?assertEqual(0, Info),
        ?assertEqual(length(lists:usort([P || #{<<"process">> := P} <- Ops])), Ps),
        ?assert(N >= 30),
        ?assertEqual([<<"a">>, <<"b">>], lists:usort([K || #{<<"key">> := K} <- Ops])),
        ?assertEqual([atom_to_binary(node())], lists:usort([Nd || #{<<"node">> := Nd} <- Ops])),
        ?assertEqual(lists:seq(0, 2), lists:usort([P || #{<<"process">> := P} <- Ops]) -- final_processes(Ops)),
        %% writes of unique values never repeat
        Written = [V || #{<<"f">> := <<"write">>, <<"type">> := <<"invoke">>, <<"value">> := V} <- Ops],
        ?assertEqual(length(Written), length(lists:usort(Written))),
        %% the final reads: one per key, fresh processes, after every other operation
        ?assertMatch([#{f := read, key := a, outcome := {ok, _}}, #{f := read, key := b, outcome := {ok, _}}], Final),
        [InvA, OkA, InvB, OkB] = lists:nthtail(length(Ops) - 4, Ops),
        ?assertMatch(#{<<"f">> := <<"read">>, <<"type">> := <<"invoke">>, <<"key">> := <<"a">>,
                       <<"process">> := 3}, InvA),
        ?assertMatch(#{<<"type">> := <<"ok">>, <<"key">> := <<"a">>, <<"process">> := 3}, OkA),
        ?assertMatch(#{<<"type">> := <<"invoke">>, <<"key">> := <<"b">>, <<"process">> := 4}, InvB),
        ?assertEqual(ets:lookup_element(Tab, b, 2), maps:get(<<"value">>, OkB)),
        ?assert(lists:all(fun(#{<<"time_us">> := T}) -> T < maps:get(<<"time_us">>, InvA) end,
                          lists:sublist(Ops, length(Ops) - 4))),
        ?assertMatch([#{<<"source">> := <<"ticksplit_workload">>, <<"seed">> := 1, <<"clients">> := 3,
                        <<"nodes">> := [_], <<"first_process">> := 0} = RunStart]
                         when not is_map_key(<<"window_ms">>, RunStart), kind(Lines, <<"run_start">>)),
        ?assertEqual(<<"run_start">>, maps:get(<<"kind">>, hd(Lines))),
        times_ordered(Lines)
    end).

%% Rotating keys: the key is the number of the stretch of the run the operation started in.
rotating_keys_test() ->
    with_run(fun(File, Tab) ->
        {ok, #{ok := Ok}} =
            ticksplit_workload:run(#{client => ?CLIENT(#{table => Tab}), nodes => [node()],
                                     clients => 2, rate => 100, duration_ms => 700,
                                     keys => {rotate_ms, 200}, history => File,
                                     ops => [{1, read, null}, {1, write, unique}]}),
        ?assert(Ok > 0),
        Keys = lists:usort([K || #{<<"key">> := K} <- ops(File)]),
        ?assert(length(Keys) >= 3),
        ?assertEqual([], Keys -- [0, 1, 2, 3])
    end).

%% Each client starts an operation at most every clients / rate seconds: at most
%% rate × duration + one per client (a loaded machine only makes it fewer).
rate_is_an_upper_bound_test() ->
    with_run(fun(File, Tab) ->
        {ok, #{ops := N}} =
            ticksplit_workload:run(#{client => ?CLIENT(#{table => Tab}), nodes => [node()],
                                     clients => 2, rate => 40, duration_ms => 500,
                                     history => File, ops => [{1, read, null}]}),
        ?assert(N =< 40 * 500 div 1000 + 2),
        ?assert(N >= 1)
    end).

%% Writes hang: the runner kills them at timeout + 50 ms; each becomes info, its process
%% never invokes again, and the client goes on as P + clients on a reopened client.
timeouts_become_info_and_renumber_test() ->
    with_run(fun(File, Tab) ->
        Self = self(),
        Opts = #{table => Tab, log => Self, slow => fun(#{f := F}) -> F =:= write end},
        {ok, #{info := Info, ok := Ok}} =
            ticksplit_workload:run(#{client => ?CLIENT(Opts), nodes => [node()], clients => 2,
                                     rate => 100, duration_ms => 600, timeout_ms => 30, seed => 7,
                                     history => File, ops => [{1, read, null}, {1, write, unique}]}),
        Ops = ops(File),
        well_formed(Ops),
        Infos = [Op || #{<<"type">> := <<"info">>} = Op <- Ops],
        ?assertEqual(Info, length(Infos)),
        ?assert(Info >= 2),
        ?assert(Ok >= 1),
        [?assertMatch(#{<<"f">> := <<"write">>, <<"error">> := <<"timeout">>}, I) || I <- Infos],
        %% each crashed process's successor is P + 2, and it is the next one of its client
        Crashed = [P || #{<<"process">> := P} <- Infos],
        [begin
             %% client C ran as processes C, C + 2, C + 4, ...; each but its last crashed
             Mine = lists:usort([P || #{<<"process">> := P} <- Ops, P rem 2 =:= C]),
             ?assertEqual(lists:seq(C, lists:max(Mine), 2), Mine),
             ?assertEqual([], lists:droplast(Mine) -- Crashed)
         end || C <- [0, 1]],
        %% opened once per process that started, closed as often
        Opened = count_msgs({open, node()}),
        Closed = count_msgs({close, node()}),
        ?assertEqual(2 + Info, Opened),
        ?assertEqual(Opened, Closed)
    end).

always_throwing_client_test() ->
    with_run(fun(File, Tab) ->
        {ok, #{ops := N, ok := 0, fail := 0, info := N, processes := N}} =
            ticksplit_workload:run(#{client => ?CLIENT(#{table => Tab, throw => true}),
                                     nodes => [node()], clients => 2, rate => 100,
                                     duration_ms => 300, history => File,
                                     ops => [{1, read, null}, {1, write, 1}]}),
        Ops = ops(File),
        well_formed(Ops),
        ?assert(N >= 2),
        ?assertEqual(N, length([x || #{<<"type">> := <<"info">>, <<"error">> := <<"{throw,injected}">>} <- Ops]))
    end).

open_failure_at_start_is_an_error_test() ->
    with_run(fun(File, Tab) ->
        ?assertEqual({error, {client_open, node(), refused}},
                     ticksplit_workload:run(#{client => ?CLIENT(#{table => Tab, open_fails => fun() -> true end}),
                                              nodes => [node()], duration_ms => 100, history => File,
                                              ops => [{1, read, null}]})),
        ?assertEqual([], ops(File))
    end).

%% After an info the client cannot be reopened: a note says so once, the run still ends.
reopen_failure_test() ->
    with_run(fun(File, Tab) ->
        Opens = atomics:new(1, []),
        OpenFails = fun() -> atomics:add_get(Opens, 1, 1) > 1 end,
        {ok, #{ops := 1, info := 1}} =
            ticksplit_workload:run(#{client => ?CLIENT(#{table => Tab, open_fails => OpenFails,
                                                         slow => fun(_) -> true end}),
                                     nodes => [node()], clients => 1, rate => 50,
                                     duration_ms => 1000, timeout_ms => 20, history => File,
                                     ops => [{1, write, 1}]}),
        ?assert(atomics:get(Opens, 1) > 2),                % it kept trying
        ?assertMatch([#{<<"text">> := <<"workload: reopening a client on ", _/binary>>}], notes(lines(File)))
    end).

%% A client stuck reopening is killed after the run's end and its grace.
stuck_client_is_killed_test() ->
    with_run(fun(File, Tab) ->
        Opens = atomics:new(1, []),
        OpenHangs = fun() -> atomics:add_get(Opens, 1, 1) > 1 andalso hang end,
        {ok, #{ops := 1, info := 1}} =
            ticksplit_workload:run(#{client => ?CLIENT(#{table => Tab, open_fails => OpenHangs,
                                                         slow => fun(_) -> true end}),
                                     nodes => [node()], clients => 1, rate => 50,
                                     duration_ms => 100, timeout_ms => 20, stop_grace_ms => 200,
                                     history => File, ops => [{1, write, 1}]}),
        ?assertMatch([#{<<"text">> := <<"workload: 1 client(s) did not stop in time", _/binary>>}],
                     notes(lines(File)))
    end).

%% A final operation whose client hangs opening is killed the same way: the run still returns.
stuck_final_operation_is_killed_test() ->
    with_run(fun(File, Tab) ->
        Opens = atomics:new(1, []),
        OpenHangs = fun() -> atomics:add_get(Opens, 1, 1) > 1 andalso hang end,
        {ok, #{final := [#{f := read, outcome := {error, stuck}}]}} =
            ticksplit_workload:run(#{client => ?CLIENT(#{table => Tab, open_fails => OpenHangs}),
                                     nodes => [node()], clients => 1, rate => 50, duration_ms => 100,
                                     timeout_ms => 20, stop_grace_ms => 200, history => File,
                                     ops => [{1, read, null}], final => [{read, null}]}),
        ?assertMatch([_ | _], [T || #{<<"text">> := <<"workload: final read on ", _/binary>> = T} <- notes(lines(File))])
    end).

%% A shared recorder: the second run's processes follow the first's; the recorder stays open.
shared_recorder_test() ->
    with_run(fun(File, Tab) ->
        {ok, Rec} = ticksplit_ops:open(File),
        Run = fun() -> ticksplit_workload:run(#{client => ?CLIENT(#{table => Tab}), nodes => [node()],
                                                clients => 2, rate => 100, duration_ms => 100,
                                                recorder => Rec, ops => [{1, read, null}]}) end,
        {ok, #{history := undefined}} = Run(),
        Next = ticksplit_ops:next_process(Rec),
        ?assertEqual(2, Next),
        {ok, _} = Run(),
        ok = ticksplit_ops:close(Rec),
        Ops = ops(File),
        well_formed(Ops),
        ?assertEqual([0, 1, 2, 3], lists:usort([P || #{<<"process">> := P} <- Ops]))
    end).

%% `until' ends a long run once its condition holds.
until_ends_the_run_test() ->
    with_run(fun(File, Tab) ->
        Until = fun() -> line_count(File) >= 20 end,
        T0 = erlang:monotonic_time(millisecond),
        {ok, #{ops := N}} =
            ticksplit_workload:run(#{client => ?CLIENT(#{table => Tab}), nodes => [node()],
                                     rate => 200, duration_ms => 60000, until => Until,
                                     history => File, ops => [{1, write, unique}]}),
        ?assert(N >= 10),
        ?assert(erlang:monotonic_time(millisecond) - T0 < 30000)
    end).

%%% The nemesis, against the fake fault API

nemesis_records_faults_and_events_test() ->
    ok = ticksplit_fake_faults:start(observed),
    with_run(fun(File, Tab) ->
        Cluster = ['n1@h1', 'n2@h2', 'n3@h3'],
        {ok, #{faults := Faults}} =
            ticksplit_workload:run(#{client => ?CLIENT(#{table => Tab}), nodes => [node()],
                                     rate => 50, duration_ms => 100, history => File,
                                     ops => [{1, read, null}], fault_api => ticksplit_fake_faults,
                                     nemesis => [{wait, 10},
                                                 {isolate, 'n1@h1', #{duration_ms => 100, nodes => Cluster}},
                                                 {split, [['n1@h1', 'n2@h2'], ['n3@h3']], #{duration => below_window}},
                                                 {one_way, 'n1@h1', 'n2@h2', #{duration_ms => 60}},
                                                 heal_all]}),
        Lines = lines(File),
        ?assertMatch([#{<<"window_ms">> := [1500, 2500]}], kind(Lines, <<"run_start">>)),
        [S1, S2, S3] = Starts = kind(Lines, <<"fault_start">>),
        [E1, E2, E3] = kind(Lines, <<"fault_end">>),
        ?assertMatch(#{<<"number">> := 1, <<"shape">> := <<"isolate">>, <<"requested_ms">> := 100,
                       <<"requested">> := <<"100ms">>, <<"window_class">> := <<"below_window">>,
                       <<"groups">> := [[<<"n1@h1">>], [<<"n2@h2">>, <<"n3@h3">>]],
                       <<"drop_sets">> := #{<<"n1@h1">> := [<<"n2@h2">>, <<"n3@h3">>],
                                            <<"n2@h2">> := [<<"n1@h1">>]}}, S1),
        ?assertMatch(#{<<"number">> := 2, <<"shape">> := <<"groups">>, <<"requested">> := <<"below_window">>,
                       <<"window_class">> := <<"below_window">>,
                       <<"groups">> := [[<<"n1@h1">>, <<"n2@h2">>], [<<"n3@h3">>]]}, S2),
        ?assertMatch(#{<<"number">> := 3, <<"shape">> := <<"one_way">>,
                       <<"drop_sets">> := #{<<"n2@h2">> := [<<"n1@h1">>]},
                       <<"links_one_way">> := [[<<"n1@h1">>, <<"n2@h2">>]],
                       <<"links_cut">> := [[<<"n1@h1">>, <<"n2@h2">>]]}, S3),
        ?assertMatch(#{<<"links_one_way">> := [],
                       <<"links_cut">> := [[<<"n1@h1">>, <<"n3@h3">>], [<<"n2@h2">>, <<"n3@h3">>]]}, S2),
        ?assertNot(is_map_key(<<"groups">>, S3)),
        [begin
             #{<<"fault">> := Id, <<"time_us">> := Start, <<"requested_ms">> := Ms} = S,
             ?assertMatch(#{<<"fault">> := Id, <<"heal_observed">> := true}, E),
             #{<<"time_us">> := End, <<"dropped_packets">> := Dropped} = E,
             %% the latest agent's end_us (the fake adds the agent's index to the planned end)
             Agents = map_size(maps:get(<<"drop_sets">>, S)),
             ?assertEqual(Start + Ms * 1000 + Agents, End),
             ?assertEqual(3 * Agents, Dropped)
         end || {S, E} <- lists:zip(Starts, [E1, E2, E3])],
        ?assertEqual([1, 2, 3], [N || #{number := N, heal_observed := true} <- Faults]),
        %% the fake's nodedowns (one per cut node and fault) and the nodeup at subscription
        Downs = kind(Lines, <<"nodedown">>),
        ?assertEqual(3 + 3 + 1, length(Downs)),
        ?assertMatch(#{<<"reason">> := <<"net_tick_timeout">>, <<"node_type">> := <<"visible">>,
                       <<"agent">> := <<"agent_h1@h1">>, <<"observer">> := <<"n1@h1">>}, hd(Downs)),
        ?assertMatch([#{<<"observer">> := _, <<"peer">> := <<"other@h0">>}], kind(Lines, <<"nodeup">>)),
        ?assertNot(is_map_key(<<"reason">>, hd(kind(Lines, <<"nodeup">>)))),
        ?assert(lists:any(fun(#{<<"text">> := T}) -> T =:= <<"nemesis: heal_all">> end, notes(Lines))),
        ?assertMatch([{subscribe, [_]} | _], ticksplit_fake_faults:calls()),
        ?assertMatch({unsubscribe, [_]}, lists:last(ticksplit_fake_faults:calls()))
    end).

%% A pause drops nothing, but to distribution the paused node is cut off from every other: the
%% lines say so, and the pause's end is its node running again, as its agent reported it.
nemesis_records_a_pause_test() ->
    ok = ticksplit_fake_faults:start(observed),
    with_run(fun(File, Tab) ->
        Cluster = ['n1@h1', 'n2@h2', 'n3@h3'],
        {ok, #{faults := [Summary]}} =
            ticksplit_workload:run(#{client => ?CLIENT(#{table => Tab}), nodes => Cluster,
                                     rate => 50, duration_ms => 100, history => File,
                                     ops => [{1, read, null}], fault_api => ticksplit_fake_faults,
                                     nemesis => [{pause, 'n2@h2', #{duration_ms => 100}}]}),
        ?assert(lists:member({pause, 'n2@h2', #{duration_ms => 100}}, ticksplit_fake_faults:calls())),
        Lines = lines(File),
        [#{<<"fault">> := Id, <<"time_us">> := Start} = S] = kind(Lines, <<"fault_start">>),
        ?assertMatch(#{<<"number">> := 1, <<"shape">> := <<"pause">>, <<"node">> := <<"n2@h2">>,
                       <<"requested_ms">> := 100, <<"requested">> := <<"100ms">>,
                       <<"window_class">> := <<"below_window">>, <<"drop_sets">> := #{} = DropSets,
                       <<"groups">> := [[<<"n2@h2">>], [<<"n1@h1">>, <<"n3@h3">>]],
                       <<"effective_groups">> := [[<<"n1@h1">>, <<"n3@h3">>], [<<"n2@h2">>]],
                       <<"links_cut">> := [[<<"n1@h1">>, <<"n2@h2">>], [<<"n2@h2">>, <<"n3@h3">>]],
                       <<"links_one_way">> := [],
                       <<"links_up">> := [[<<"n1@h1">>, <<"n3@h3">>]]}
                         when map_size(DropSets) =:= 0, S),
        ?assert(maps:get(<<"loss">>, S) == 1),
        Planned = Start + 100000,
        Resumed = Planned + ticksplit_fake_faults:resume_late_us(),
        Stopped = Start + ticksplit_fake_faults:stopped_after_us(),
        ?assertEqual([#{<<"kind">> => <<"fault_end">>, <<"fault">> => Id, <<"time_us">> => Resumed,
                        <<"heal_observed">> => true, <<"dropped_packets">> => 0,
                        <<"stopped_us">> => Stopped, <<"resumed_us">> => Resumed,
                        <<"resume_late_us">> => ticksplit_fake_faults:resume_late_us()}],
                     kind(Lines, <<"fault_end">>)),
        ?assertMatch(#{id := Id, shape := pause, heal_observed := true, start_us := Start, end_us := Resumed,
                       stopped_us := Stopped, resumed_us := Resumed, dropped_packets := 0}, Summary),
        %% the fake's other node saw the paused one go
        ?assertMatch([#{<<"observer">> := <<"other@h0">>, <<"peer">> := <<"n2@h2">>,
                        <<"reason">> := <<"net_tick_timeout">>}], kind(Lines, <<"nodedown">>)),
        ?assertNot(lists:any(fun({heal, _}) -> true; (_) -> false end, ticksplit_fake_faults:calls()))
    end).

%% A kill is written as a pause is: the node cut off from every other, its end the node started
%% again, with the kill's times as its agent reported them.
nemesis_records_a_kill_test() ->
    ok = ticksplit_fake_faults:start(observed),
    with_run(fun(File, Tab) ->
        Cluster = ['n1@h1', 'n2@h2', 'n3@h3'],
        {ok, #{faults := [Summary]}} =
            ticksplit_workload:run(#{client => ?CLIENT(#{table => Tab}), nodes => Cluster,
                                     rate => 50, duration_ms => 100, history => File,
                                     ops => [{1, read, null}], fault_api => ticksplit_fake_faults,
                                     nemesis => [{kill_node, 'n2@h2', #{restart_after_ms => 100}}]}),
        ?assert(lists:member({kill_node, 'n2@h2', #{restart_after_ms => 100}}, ticksplit_fake_faults:calls())),
        Lines = lines(File),
        [#{<<"fault">> := Id, <<"time_us">> := Start} = S] = kind(Lines, <<"fault_start">>),
        ?assertMatch(#{<<"shape">> := <<"kill_node">>, <<"node">> := <<"n2@h2">>, <<"restart_after_ms">> := 100,
                       <<"links_cut">> := [[<<"n1@h1">>, <<"n2@h2">>], [<<"n2@h2">>, <<"n3@h3">>]]}, S),
        Killed = Start + ticksplit_fake_faults:stopped_after_us(),
        Started = Start + 100000 + ticksplit_fake_faults:resume_late_us(),
        ?assertEqual([#{<<"kind">> => <<"fault_end">>, <<"fault">> => Id, <<"time_us">> => Started,
                        <<"heal_observed">> => true, <<"dropped_packets">> => 0,
                        <<"down_us">> => Killed, <<"exited_us">> => Killed + 10, <<"started_us">> => Started,
                        <<"restart_late_us">> => ticksplit_fake_faults:resume_late_us()}],
                     kind(Lines, <<"fault_end">>)),
        ?assertMatch(#{id := Id, shape := kill_node, heal_observed := true, end_us := Started}, Summary)
    end).

%% A kill_process cuts nothing: its start line names the node and the target, no link is cut;
%% its end is the agent's process_killed, with what the node's watcher saw.
nemesis_records_a_kill_process_test() ->
    ok = ticksplit_fake_faults:start(observed),
    with_run(fun(File, Tab) ->
        Cluster = ['n1@h1', 'n2@h2'],
        Step = {kill_process, 'n2@h2', {supervisor, ts_sup}, #{restart_window_ms => 50}},
        {ok, #{faults := [Summary]}} =
            ticksplit_workload:run(#{client => ?CLIENT(#{table => Tab}), nodes => Cluster,
                                     rate => 50, duration_ms => 100, history => File,
                                     ops => [{1, read, null}], fault_api => ticksplit_fake_faults,
                                     nemesis => [Step]}),
        ?assert(lists:member(Step, ticksplit_fake_faults:calls())),
        Lines = lines(File),
        [#{<<"fault">> := Id, <<"time_us">> := Start} = S] = kind(Lines, <<"fault_start">>),
        ?assertMatch(#{<<"shape">> := <<"kill_process">>, <<"node">> := <<"n2@h2">>,
                       <<"target">> := <<"child_of">>, <<"supervisor">> := <<"ts_sup">>,
                       <<"requested_ms">> := 50, <<"links_cut">> := [],
                       <<"links_up">> := [[<<"n1@h1">>, <<"n2@h2">>]]}, S),
        ?assertNot(is_map_key(<<"groups">>, S)),
        Killed = Start + ticksplit_fake_faults:killed_after_us(),
        [End] = kind(Lines, <<"fault_end">>),
        ?assertMatch(#{<<"fault">> := Id, <<"heal_observed">> := true, <<"pid">> := <<"<0.90.0>">>,
                       <<"killed_us">> := Killed, <<"restarted">> := true, <<"new_pid">> := <<"<0.95.0>">>,
                       <<"error">> := <<>>}, End),
        ?assertEqual(ticksplit_fake_faults:restart_after_us(), maps:get(<<"restart_after_us">>, End)),
        ?assertMatch(#{id := Id, shape := kill_process, restarted := true, heal_observed := true}, Summary)
    end).

%% A kill_process whose target the node did not have: the agent's error is on the fault_end
%% line and in a note; nothing was killed or restarted.
kill_of_nothing_test() ->
    ok = ticksplit_fake_faults:start(unresumed),
    with_run(fun(File, Tab) ->
        {ok, _} = ticksplit_workload:run(#{client => ?CLIENT(#{table => Tab}), nodes => [node()],
                                           rate => 50, duration_ms => 50, history => File,
                                           ops => [{1, read, null}], fault_api => ticksplit_fake_faults,
                                           nemesis => [{kill_process, 'n1@h1', {name, nobody}, #{restart_window_ms => 10}}]}),
        Lines = lines(File),
        ?assertMatch([#{<<"restarted">> := false, <<"pid">> := null, <<"killed_us">> := null,
                        <<"restart_after_us">> := null,
                        <<"error">> := <<"no process is registered as nobody">>}], kind(Lines, <<"fault_end">>)),
        ?assertMatch([_], [T || #{<<"text">> := <<"nemesis: kill_process ", _/binary>> = T} <- notes(Lines)])
    end).

%% A stress cuts nothing (every link up, no groups); its end is the node's report, whose figures
%% the fault_end carries.
nemesis_records_a_stress_test() ->
    ok = ticksplit_fake_faults:start(observed),
    with_run(fun(File, Tab) ->
        Cluster = ['n1@h1', 'n2@h2', 'n3@h3'],
        Step = {stress, 'n2@h2', #{duration_ms => 100, hogs => 3}},
        {ok, #{faults := [Summary]}} =
            ticksplit_workload:run(#{client => ?CLIENT(#{table => Tab}), nodes => Cluster,
                                     rate => 50, duration_ms => 100, history => File,
                                     ops => [{1, read, null}], fault_api => ticksplit_fake_faults,
                                     nemesis => [Step]}),
        ?assert(lists:member(Step, ticksplit_fake_faults:calls())),
        Lines = lines(File),
        [#{<<"fault">> := Id, <<"time_us">> := Start} = S] = kind(Lines, <<"fault_start">>),
        ?assertMatch(#{<<"shape">> := <<"stress">>, <<"node">> := <<"n2@h2">>, <<"hogs">> := 3,
                       <<"links_cut">> := [], <<"links_one_way">> := [],
                       <<"links_up">> := [_, _, _]}, S),
        ?assertNot(is_map_key(<<"groups">>, S)),
        End = Start + 100000,
        [E] = kind(Lines, <<"fault_end">>),
        ?assertMatch(#{<<"fault">> := Id, <<"heal_observed">> := true, <<"utilisation_during">> := 0.99,
                       <<"utilisation_after">> := 0.02, <<"normal_late_max_ms">> := 100.0,
                       <<"rtt_during_ms">> := #{<<"median_ms">> := 16.0, <<"max_ms">> := 24.0,
                                                 <<"count">> := 19, <<"lost">> := 0}}, E),
        ?assertEqual(End + 9, maps:get(<<"time_us">>, E)),
        ?assertMatch(#{id := Id, shape := stress, heal_observed := true, utilisation_during := 0.99}, Summary)
    end).

%% A pause whose end its agent never reports: healed by request after the grace, its end the
%% planned one; what the agent did report (the stop) is kept, the rest is null.
unobserved_pause_test() ->
    ok = ticksplit_fake_faults:start(silent),
    with_run(fun(File, Tab) ->
        {ok, #{faults := [#{heal_observed := false, end_us := End, start_us := Start, id := Id}]}} =
            ticksplit_workload:run(#{client => ?CLIENT(#{table => Tab}), nodes => [node()],
                                     rate => 50, duration_ms => 50, history => File, heal_grace_ms => 30,
                                     ops => [{1, read, null}], fault_api => ticksplit_fake_faults,
                                     nemesis => [{pause, 'n1@h1', #{duration_ms => 40}}]}),
        ?assertEqual(Start + 40000, End),
        Lines = lines(File),
        ?assertMatch([#{<<"links_cut">> := [[<<"n1@h1">>, _]], <<"links_up">> := []}],
                     kind(Lines, <<"fault_start">>)),
        ?assertEqual([#{<<"kind">> => <<"fault_end">>, <<"fault">> => Id, <<"time_us">> => End,
                        <<"heal_observed">> => false, <<"dropped_packets">> => 0,
                        <<"stopped_us">> => Start + ticksplit_fake_faults:stopped_after_us(),
                        <<"resumed_us">> => null, <<"resume_late_us">> => null}],
                     kind(Lines, <<"fault_end">>)),
        ?assert(lists:any(fun(#{<<"text">> := <<"nemesis: no pause_ended for fault ", _/binary>>}) -> true;
                             (_) -> false
                          end, notes(Lines))),
        ?assert(lists:member({heal, Id}, ticksplit_fake_faults:calls()))
    end).

%% A pause that ends without a resume (the agent says why): it ended, but not with the node
%% running again: no resume time, a note with the agent's error.
unresumed_pause_test() ->
    ok = ticksplit_fake_faults:start(unresumed),
    with_run(fun(File, Tab) ->
        {ok, #{faults := [#{heal_observed := true, end_us := End, start_us := Start}]}} =
            ticksplit_workload:run(#{client => ?CLIENT(#{table => Tab}), nodes => [node()],
                                     rate => 50, duration_ms => 50, history => File,
                                     ops => [{1, read, null}], fault_api => ticksplit_fake_faults,
                                     nemesis => [{pause, 'n1@h1', #{duration_ms => 40}}]}),
        ?assert(End >= Start + 40000),       % when the agent reported it
        Lines = lines(File),
        ?assertMatch([#{<<"time_us">> := End, <<"heal_observed">> := true,
                        <<"stopped_us">> := Stopped, <<"resumed_us">> := null, <<"resume_late_us">> := null}]
                         when is_integer(Stopped), kind(Lines, <<"fault_end">>)),
        Error = ticksplit_fake_faults:resume_error(),
        ?assertMatch([<<"nemesis: pause ", _/binary>>],
                     [T || #{<<"text">> := T} <- notes(Lines), binary:match(T, Error) =/= nomatch]),
        ?assertNot(lists:any(fun({heal, _}) -> true; (_) -> false end, ticksplit_fake_faults:calls()))
    end).

%% No agent reports the heal: after the grace the fault is healed by request, its end is the
%% planned one, and a note says so.
unobserved_heal_test() ->
    ok = ticksplit_fake_faults:start(silent),
    with_run(fun(File, Tab) ->
        {ok, #{faults := [#{heal_observed := false, end_us := End, start_us := Start}]}} =
            ticksplit_workload:run(#{client => ?CLIENT(#{table => Tab}), nodes => [node()],
                                     rate => 50, duration_ms => 50, history => File, heal_grace_ms => 30,
                                     ops => [{1, read, null}], fault_api => ticksplit_fake_faults,
                                     nemesis => [{one_way, 'n1@h1', 'n2@h2', #{duration_ms => 40}}]}),
        ?assertEqual(Start + 40000, End),
        Lines = lines(File),
        ?assertMatch([#{<<"heal_observed">> := false, <<"dropped_packets">> := 0}], kind(Lines, <<"fault_end">>)),
        ?assert(lists:any(fun(#{<<"text">> := <<"nemesis: no fault_healed", _/binary>>}) -> true;
                             (_) -> false
                          end, notes(Lines))),
        ?assert(lists:any(fun({heal, _}) -> true; (_) -> false end, ticksplit_fake_faults:calls()))
    end).

%% A refused fault stops the clients early and fails the run.
refused_fault_stops_the_run_test() ->
    ok = ticksplit_fake_faults:start(refuse),
    with_run(fun(File, Tab) ->
        T0 = erlang:monotonic_time(millisecond),
        Step = {one_way, 'n1@h1', 'n2@h2', #{duration_ms => 40}},
        ?assertEqual({error, {nemesis, Step, {refused, 'agent_x@h', {backend, "no clsact"}}}},
                     ticksplit_workload:run(#{client => ?CLIENT(#{table => Tab}), nodes => [node()],
                                              rate => 50, duration_ms => 60000, history => File,
                                              ops => [{1, read, null}], fault_api => ticksplit_fake_faults,
                                              nemesis => [Step]})),
        ?assert(erlang:monotonic_time(millisecond) - T0 < 20000),
        well_formed(ops(File)),
        ?assertMatch([#{<<"text">> := <<"nemesis stopped: ", _/binary>>}], notes(lines(File)))
    end).

%% `until' also ends the nemesis's steps not started (here a long wait).
until_skips_the_rest_of_the_nemesis_test() ->
    ok = ticksplit_fake_faults:start(observed),
    with_run(fun(File, Tab) ->
        T0 = erlang:monotonic_time(millisecond),
        {ok, #{faults := []}} =
            %% duration_ms well past what 10 lines take, so that `until' (not the end of the
            %% workload, which would leave the nemesis waiting) ends the run even on a loaded
            %% machine
            ticksplit_workload:run(#{client => ?CLIENT(#{table => Tab}), nodes => [node()],
                                     rate => 100, duration_ms => 3000, history => File,
                                     until => fun() -> line_count(File) >= 10 end,
                                     ops => [{1, read, null}], fault_api => ticksplit_fake_faults,
                                     nemesis => [{wait, 60000}, heal_all]}),
        ?assert(erlang:monotonic_time(millisecond) - T0 < 20000),
        ?assertNot(lists:member({heal_all, [node()]}, ticksplit_fake_faults:calls()))
    end).

%% Subscribed without a nemesis: the agents' events are recorded all the same.
subscribe_without_nemesis_test() ->
    ok = ticksplit_fake_faults:start(observed),
    with_run(fun(File, Tab) ->
        {ok, _} = ticksplit_workload:run(#{client => ?CLIENT(#{table => Tab}), nodes => [node()],
                                           rate => 100, duration_ms => 50, history => File,
                                           subscribe => true, ops => [{1, read, null}],
                                           fault_api => ticksplit_fake_faults}),
        ?assertMatch([#{<<"kind">> := <<"nodeup">>}], kind(lines(File), <<"nodeup">>)),
        ?assertMatch([{subscribe, _}, {unsubscribe, _}], ticksplit_fake_faults:calls())
    end).

%%% Options

options_test_() ->
    Base = #{client => ?CLIENT(#{table => t}), nodes => [node()], duration_ms => 10,
             ops => [{1, read, null}], history => "/tmp/unused.jsonl"},
    Run = fun(Opts) -> ticksplit_workload:run(Opts) end,
    [?_assertEqual({error, {missing_option, client}}, Run(maps:remove(client, Base))),
     ?_assertEqual({error, {missing_option, history}}, Run(maps:remove(history, Base))),
     ?_assertEqual({error, {unknown_option, colour}}, Run(Base#{colour => red})),
     ?_assertEqual({error, {conflicting_options, history, recorder}}, Run(Base#{recorder => self()})),
     ?_assertEqual({error, {bad_option, ops, [{1, read, 5}]}}, Run(Base#{ops => [{1, read, 5}]})),
     ?_assertEqual({error, {bad_option, ops, [{1, get, null}]}}, Run(Base#{ops => [{1, get, null}]})),
     ?_assertEqual({error, {bad_option, ops, []}}, Run(Base#{ops => []})),
     ?_assertEqual({error, {bad_option, rate, 0}}, Run(Base#{rate => 0})),
     ?_assertEqual({error, {bad_option, nodes, []}}, Run(Base#{nodes => []})),
     ?_assertEqual({error, {bad_option, nemesis, [{sleep, 1}]}}, Run(Base#{nemesis => [{sleep, 1}]})),
     ?_assertEqual({error, {bad_option, nemesis, [{pause, "n1@h1", #{}}]}},
                   Run(Base#{nemesis => [{pause, "n1@h1", #{}}]})),
     ?_assertEqual({error, {bad_option, final, [{drain, 1}]}}, Run(Base#{final => [{drain, 1}]})),
     ?_assertEqual({error, {bad_option, options, []}}, Run([])),
     ?_assertEqual({error, {bad_option, keys, {rotate_ms, 0}}}, Run(Base#{keys => {rotate_ms, 0}})),
     ?_assertEqual({error, {conflicting_options, keys, final}},
                   Run(Base#{keys => {rotate_ms, 100}, final => [{read, null}]})),
     ?_assertMatch({error, {history, _}}, Run(Base#{history => "/nonexistent-dir/h.jsonl"}))].

%%% load_modules/2, on this node

load_modules_test() ->
    ?assertEqual(ok, ticksplit_workload:load_modules([node()], [ticksplit_register_server])),
    ?assertEqual({error, {no_object_code, no_such_module}},
                 ticksplit_workload:load_modules([node()], [no_such_module])).

%%% Helpers

with_run(Fun) ->
    Dir = filename:join(tmp(), "ticksplit_workload_tests-" ++ integer_to_list(erlang:unique_integer([positive]))),
    ok = filelib:ensure_path(Dir),
    File = filename:join(Dir, "ops.jsonl"),
    Tab = ets:new(register, [public, set]),
    try Fun(File, Tab)
    after
        ets:delete(Tab),
        _ = file:delete(File),
        _ = file:del_dir(Dir)
    end.

tmp() ->
    case os:getenv("TMPDIR") of
        D when is_list(D), D =/= "" -> D;
        _ -> "/tmp"
    end.

lines(File) ->
    case file:read_file(File) of
        {ok, Bin} -> [ticksplit_json:decode(L) || L <- binary:split(Bin, <<"\n">>, [global, trim_all])];
        {error, enoent} -> []
    end.

ops([#{} | _] = Lines) -> kind(Lines, <<"op">>);
ops([]) -> [];
ops(File) -> kind(lines(File), <<"op">>).

%% Lines written so far (counting newlines: the file may end in a line being written).
line_count(File) ->
    case file:read_file(File) of
        {ok, B} -> length(binary:matches(B, <<"\n">>));
        _ -> 0
    end.

kind(Lines, Kind) -> [L || #{<<"kind">> := K} = L <- Lines, K =:= Kind].

notes(Lines) -> kind(Lines, <<"note">>).

completions(Ops) -> [Op || #{<<"type">> := T} = Op <- Ops, T =/= <<"invoke">>].

%% Every invoke is completed by its process before that process invokes again; no process
%% invokes after an info; every line has what the format requires.
well_formed(Ops) ->
    Open = lists:foldl(
             fun(#{<<"type">> := <<"invoke">>, <<"process">> := P} = Op, {Open, Dead}) ->
                     ?assertNot(is_map_key(P, Open)),
                     ?assertNot(lists:member(P, Dead)),
                     {Open#{P => Op}, Dead};
                (#{<<"type">> := T, <<"process">> := P, <<"f">> := F} = Op, {Open, Dead}) ->
                     ?assert(lists:member(T, [<<"ok">>, <<"fail">>, <<"info">>])),
                     #{P := #{<<"f">> := F}} = Open,
                     ?assert(is_map_key(<<"value">>, Op)),
                     {maps:remove(P, Open), [P || T =:= <<"info">>] ++ Dead}
             end, {#{}, []}, Ops),
    ?assertEqual(#{}, element(1, Open)),        % the run completed every invoke
    [?assert(is_integer(T)) || #{<<"time_us">> := T} <- Ops],
    ok.

times_ordered(Lines) ->
    Times = [T || #{<<"kind">> := K, <<"time_us">> := T} <- Lines, K =:= <<"op">> orelse K =:= <<"note">>],
    ?assertEqual(Times, lists:sort(Times)).

final_processes(Ops) ->
    [P || #{<<"process">> := P} <- lists:nthtail(length(Ops) - 4, Ops)].

count_msgs(Msg) ->
    receive {ticksplit_local_register_client, Msg} -> 1 + count_msgs(Msg)
    after 0 -> 0
    end.
