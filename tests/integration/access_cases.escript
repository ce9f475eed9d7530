#!/usr/bin/env escript
%%! -hidden
%% Erlang side of the access tests (tests/integration/access.sh): who may command an agent.
%% Runs in the control namespace (198.51.100.1) as a hidden node against a 2-host cluster whose
%% host 1 agent access.sh restarted with --allow, --allow-from or --listen.
%% Usage: access_cases.escript CASE; prints PASS/FAIL and exits 0/1.
-mode(compile).
-include("../../scripts/lib/escript_lib.hrl").

-define(A1, 'ticksplit@198.51.100.11').
-define(APP1, 'app@198.51.100.11').
-define(APP2, 'app@198.51.100.12').
-define(BURST, 50).

main([Case]) ->
    start_dist("t_" ++ Case ++ "_"),
    try run(list_to_atom(Case)) of
        ok -> io:format("PASS ~s~n", [Case]), halt(0)
    catch
        Class:Reason:Stack ->
            io:format("FAIL ~s: ~p:~p~n  ~p~n", [Case, Class, Reason, Stack]),
            halt(1)
    end.

%% The agent answers and has joined its node.
run(joined) ->
    await(fun() -> agent_joined(?A1) end, agent_joined),
    pong = net_adm:ping(?A1),
    ok;

%% --allow 'app@198.51.100.1*': app@198.51.100.12 (matching) is served; this node (t_allow_...)
%% is refused every request, in a burst.
run(allow) ->
    await(fun() -> joined_as_seen_by(?APP2) end, served_to_matching_name),
    Requests = lists:duplicate(?BURST - 5, status) ++
        [{subscribe, self()}, {events, 0}, heal, {heal, <<"f1">>},
         {partition, #{peers => [<<"198.51.100.12">>], duration_ms => 1000}}],
    Replies = [call(?A1, R) || R <- Requests],
    Wrong = [{R, Reply} || {R, Reply} <- lists:zip(Requests, Replies), Reply =/= {error, not_allowed}],
    expect(Wrong =:= [], {served_to_a_name_not_allowed, Wrong}),
    receive {ticksplit_event, _, E} -> error({event_to_a_name_not_allowed, E}) after 0 -> ok end,
    %% still served to the matching one after the burst
    expect(joined_as_seen_by(?APP2), not_served_after_burst),
    %% the Erlang library says who refused and why (with TICKSPLIT_EBIN: the built library)
    case os:getenv("TICKSPLIT_EBIN") of
        false -> ok;
        Ebin ->
            true = code:add_patha(Ebin),
            {error, {refused, ?A1, not_allowed}} = ticksplit:status(?A1)
    end,
    io:format("refused ~b calls from ~s~n", [length(Requests), node()]),
    ok;

%% --allow-from 198.51.100.1/32: served to this node (198.51.100.1); a node on host 2
%% (198.51.100.12) with the same cookie cannot even connect.
run(allow_from) ->
    await(fun() -> agent_joined(?A1) end, agent_joined),
    {ok, #{agent := ?A1}} = call(?A1, status),
    pang = rpc:call(?APP2, net_adm, ping, [?A1]),
    {badrpc, {'EXIT', {Why, _}}} = rpc:call(?APP2, gen_server, call, [{ticksplit, ?A1}, status, 2000]),
    expect(case Why of {nodedown, ?A1} -> true; noconnection -> true; _ -> false end, {unexpected_exit, Why}),
    Hidden = rpc:call(?APP2, erlang, nodes, [hidden]),
    expect(not lists:member(?A1, Hidden), {connected_from_outside_allow_from, Hidden}),
    {ok, _} = call(?A1, status),
    ok.

joined_as_seen_by(Node) ->
    case rpc:call(Node, gen_server, call, [{ticksplit, ?A1}, status, 2000]) of
        {ok, #{nodes := [#{node := ?APP1, connected := true}]}} -> true;
        _ -> false
    end.
