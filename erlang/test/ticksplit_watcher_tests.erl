%% The watcher's kill_process work (ticksplit_watcher:kill_process/2) on this node, with a real
%% supervisor and real processes; and a command scheduled through the watcher's loop.
-module(ticksplit_watcher_tests).
-include_lib("eunit/include/eunit.hrl").

-behaviour(supervisor).
-export([init/1, start_worker/1]).

%% A one_for_one supervisor with one worker registered as Name.
init(Name) ->
    {ok, {#{strategy => one_for_one, intensity => 100, period => 1},
          [#{id => worker, start => {?MODULE, start_worker, [Name]}}]}}.

start_worker(Name) ->
    Pid = spawn_link(fun() -> receive stop -> ok end end),
    true = register(Name, Pid),
    {ok, Pid}.

with_sup(Test) ->
    process_flag(trap_exit, true),
    {ok, Sup} = supervisor:start_link({local, tsw_sup}, ?MODULE, tsw_worker),
    try Test()
    after
        unlink(Sup), exit(Sup, shutdown),
        wait_gone(tsw_sup)
    end.

wait_gone(Name) ->
    case whereis(Name) of undefined -> ok; _ -> timer:sleep(1), wait_gone(Name) end.

prop(K, Props) -> proplists:get_value(K, Props).

kill_by_name_restarted_test() ->
    with_sup(fun() ->
        Old = whereis(tsw_worker),
        Props = ticksplit_watcher:kill_process({name, tsw_worker}, 1000),
        ?assertEqual(<<>>, prop(error, Props)),
        ?assertEqual(list_to_binary(pid_to_list(Old)), prop(pid, Props)),
        ?assert(prop(restarted, Props)),
        New = whereis(tsw_worker),
        ?assertEqual(list_to_binary(pid_to_list(New)), prop(new_pid, Props)),
        ?assert(New =/= Old),
        ?assertNot(is_process_alive(Old)),
        ?assert(prop(restarted_us, Props) >= prop(killed_us, Props))
    end).

kill_child_of_restarted_test() ->
    with_sup(fun() ->
        Old = whereis(tsw_worker),
        Props = ticksplit_watcher:kill_process({child_of, tsw_sup}, 1000),
        ?assertEqual(<<>>, prop(error, Props)),
        ?assertEqual(<<"worker">>, prop(child_id, Props)),
        ?assertEqual(tsw_sup, prop(supervisor, Props)),
        ?assertEqual(list_to_binary(pid_to_list(Old)), prop(pid, Props)),
        ?assert(prop(restarted, Props)),
        ?assertNot(is_process_alive(Old))
    end).

kill_unsupervised_not_restarted_test() ->
    Pid = spawn(fun() -> receive stop -> ok end end),
    true = register(tsw_alone, Pid),
    T0 = erlang:monotonic_time(millisecond),
    Props = ticksplit_watcher:kill_process({name, tsw_alone}, 50),
    ?assert(erlang:monotonic_time(millisecond) - T0 >= 50),   % watched the whole window
    ?assertEqual(<<>>, prop(error, Props)),
    ?assertNot(prop(restarted, Props)),
    ?assertEqual(undefined, prop(new_pid, Props)),
    ?assertEqual(undefined, prop(restarted_us, Props)),
    ?assertNot(is_process_alive(Pid)).

no_such_name_is_an_error_test() ->
    Props = ticksplit_watcher:kill_process({name, tsw_nobody}, 50),
    ?assertEqual(<<"no process is registered as tsw_nobody">>, prop(error, Props)),
    ?assertEqual(undefined, prop(pid, Props)),
    ?assertEqual(undefined, prop(killed_us, Props)),
    ?assertNot(prop(restarted, Props)).

not_a_supervisor_is_an_error_test() ->
    %% A process that never answers which_children: the call times out (1 s), nothing killed.
    Pid = spawn(fun() -> receive stop -> ok end end),
    true = register(tsw_mute, Pid),
    Props = ticksplit_watcher:kill_process({child_of, tsw_mute}, 50),
    ?assertMatch(<<"tsw_mute did not answer which_children", _/binary>>, prop(error, Props)),
    ?assert(is_process_alive(Pid)),
    Pid ! stop.

%% A command through the watcher's loop: scheduled at its instant, the work in a process of its
%% own, the report sent to the agent's name as {ticksplit_watcher, Node, fault, Kind, Id, Props}.
command_through_the_loop_test() ->
    with_sup(fun() ->
        register(tsw_agent, self()),
        Watcher = spawn(fun() -> watcher_loop() end),
        Start = os:system_time(microsecond) + 100000,
        Watcher ! {ticksplit_agent, {kill_process, <<"k1">>, {name, tsw_worker}, Start, 200}},
        Watcher ! {ticksplit_agent, {no_such_command, <<"k2">>}},
        Watcher ! {ticksplit_agent, {kill_process, <<"k3">>, {pid, self()}, Start, 200}},
        Node = node(),
        Reports = [receive {ticksplit_watcher, Node, fault, Kind, Id, Props} -> {Id, Kind, Props}
                   after 5000 -> error(no_report) end || _ <- [1, 2, 3]],
        unregister(tsw_agent),
        exit(Watcher, kill),
        {_, rejected, P2} = lists:keyfind(<<"k2">>, 1, Reports),
        ?assertEqual(no_such_command, prop(command, P2)),
        {_, rejected, P3} = lists:keyfind(<<"k3">>, 1, Reports),
        ?assertEqual(<<"bad target">>, prop(error, P3)),
        {_, process_killed, P1} = lists:keyfind(<<"k1">>, 1, Reports),
        ?assert(prop(restarted, P1)),
        ?assert(prop(killed_us, P1) >= Start)   % never before its instant
    end).

%% The watcher's loop without its start (which needs a distributed node and an agent): the
%% agent is this node, under the registered name tsw_agent.
watcher_loop() ->
    ticksplit_watcher:loop(node(), tsw_agent).
