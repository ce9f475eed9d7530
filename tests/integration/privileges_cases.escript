#!/usr/bin/env escript
%%! -hidden
%% Erlang side of privileges.sh, run in the control namespace of a 2-host cluster:
%%   partition_heal PREFIX   host 1's agent cuts host 2 (direction in) and heals the cut; real
%%                           packets decide: a TCP connection from host 2 to host 1's epmd is
%%                           not made (its SYN dropped), then is again (no ping on the test hosts)
%%   pause_hold              host 1's agent pauses its node for 30 s; prints "paused" and holds
%%                           the connection (the pause's owner) until that agent goes down
%%   pause_guard AGENT_PID   host 1's agent pauses its node for 3 s; while it holds, prints the
%%                           guard's CapEff and CapAmb and the node's state, one per line, for
%%                           privileges.sh to judge; returns after the pause ended
-mode(compile).
-include("../../scripts/lib/escript_lib.hrl").

main(["partition_heal", Prefix]) ->
    start_dist("priv_"),
    await(fun() -> agent_joined(agent(1)) end, {agent_joined, 1}),
    %% A connection from host 2 to host 1's epmd within 1 s: its SYN arrives at host 1's ingress
    %% from ip4(2).
    Ping = fun() ->
                   Cmd = "ip netns exec " ++ Prefix ++ "-h2 timeout 1 bash -c 'exec 3<>/dev/tcp/" ++ ip4(1) ++
                         "/4369' >/dev/null 2>&1; echo $?",
                   os:cmd(Cmd) =:= "0\n"
           end,
    expect(Ping(), connects_before_the_partition),
    %% The fault lives while this connection does (owner_gone): the checks run here.
    {ok, Id} = call(agent(1), {partition, #{peers => [list_to_binary(ip4(2))], duration_ms => 30000}}),
    await(fun() -> not Ping() end, {dropped, Id}),
    ok = call(agent(1), {heal, Id}),
    await(Ping, {passes_again, Id}),
    io:format("partition ~s: host 2 could not connect to host 1 while it held, could again after the heal~n", [Id]);
main(["pause_hold"]) ->
    start_dist("priv_"),
    await(fun() -> agent_joined(agent(1)) end, {agent_joined, 1}),
    ok = call(agent(1), {subscribe, self()}),
    {ok, Id} = call(agent(1), {pause, #{node => app(1), duration_ms => 30000}}),
    receive {ticksplit_event, _, #{type := pause_started, id := Id}} -> ok
    after 5000 -> error({no_pause_started, Id})
    end,
    io:format("paused~n"),
    monitor_node(agent(1), true),
    receive {nodedown, _} -> ok
    after 30000 -> error(agent_still_up)
    end;
main(["pause_guard", AgentPid]) ->
    start_dist("priv_"),
    await(fun() -> agent_joined(agent(1)) end, {agent_joined, 1}),
    ok = call(agent(1), {subscribe, self()}),
    {ok, Id} = call(agent(1), {pause, #{node => app(1), duration_ms => 3000}}),
    receive {ticksplit_event, _, #{type := pause_started, id := Id, os_pid := Pid}} -> ok
    after 5000 -> Pid = error({no_pause_started, Id})
    end,
    %% The guard is the agent's child named ticksplit-pause (comm is cut at 15 bytes).
    Guard = string:trim(os:cmd("pgrep -P " ++ AgentPid ++ " -x ticksplit-pause")),
    Status = fun(P, Key) -> string:trim(os:cmd("awk '$1 == \"" ++ Key ++ ":\" {print $2}' /proc/" ++ P ++ "/status")) end,
    io:format("guard_eff ~s~nguard_amb ~s~nnode_state ~s~n",
              [Status(Guard, "CapEff"), Status(Guard, "CapAmb"), Status(integer_to_list(Pid), "State")]),
    receive {ticksplit_event, _, #{type := pause_ended, id := Id, reason := Reason}} ->
            io:format("pause_ended ~p~n", [Reason])
    after 6000 -> error({no_pause_ended, Id})
    end;
main(_) ->
    io:format(standard_error, "usage: privileges_cases.escript partition_heal PREFIX | pause_hold | pause_guard AGENT_PID~n", []),
    halt(2).
