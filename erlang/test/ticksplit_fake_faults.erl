%% A fake of the ticksplit fault API for the nemesis's tests (ticksplit_workload's
%% `fault_api' seam): faults are timers, events go to the subscribers as an agent would send
%% them. start(Mode) before use: `observed' (every agent reports the heal at the fault's
%% end), `silent' (no agent does), `refuse' (every fault is refused). calls() lists what
%% was asked, in order.
-module(ticksplit_fake_faults).

-export([start/1, calls/0, split/2, isolate/2, one_way/3, heal/1, heal_all/1, subscribe/1,
         unsubscribe/1, window/1]).

-define(TAB, ?MODULE).
-define(WINDOW, {1500, 2500}).

-spec start(observed | silent | refuse) -> ok.
start(Mode) ->
    catch ets:delete(?TAB),
    ?TAB = ets:new(?TAB, [named_table, public, ordered_set]),
    true = ets:insert(?TAB, {mode, Mode}),
    ok.

-spec calls() -> [term()].
calls() ->
    [C || {{call, _}, C} <- ets:tab2list(?TAB)].

-spec subscribe([node()]) -> ok.
subscribe(Nodes) ->
    log({subscribe, Nodes}),
    true = ets:insert(?TAB, {{subscriber, self()}, true}),
    %% like an agent that has just seen its node come up
    self() ! {ticksplit_event, agent(hd(Nodes)),
              #{type => nodeup, time_us => now_us(), observer => hd(Nodes), peer => 'other@h0',
                node_type => visible, seq => 1}},
    ok.

-spec unsubscribe([node()]) -> ok.
unsubscribe(Nodes) ->
    log({unsubscribe, Nodes}),
    ets:delete(?TAB, {subscriber, self()}),
    ok.

-spec window(node()) -> {ok, {pos_integer(), pos_integer()}}.
window(_) -> {ok, ?WINDOW}.

-spec split([[node()]], map()) -> {ok, map()} | {error, term()}.
split(Groups, Opts) ->
    log({split, Groups, Opts}),
    {ok, Drops} = ticksplit_groups:drop_sets(Groups),
    arm(Drops, Opts).

-spec isolate(node(), map()) -> {ok, map()} | {error, term()}.
isolate(Node, #{nodes := Nodes} = Opts) ->
    log({isolate, Node, Opts}),
    {ok, Drops} = ticksplit_groups:drop_sets([[Node], Nodes -- [Node]]),
    arm(Drops, maps:remove(nodes, Opts)).

-spec one_way(node(), node(), map()) -> {ok, map()} | {error, term()}.
one_way(From, To, Opts) ->
    log({one_way, From, To, Opts}),
    arm([{To, [From]}], Opts).

-spec heal(map()) -> ok.
heal(#{id := Id}) ->
    log({heal, Id}),
    ok.

-spec heal_all([node()]) -> ok.
heal_all(Nodes) ->
    log({heal_all, Nodes}),
    ok.

arm(Drops, Opts) ->
    case ets:lookup_element(?TAB, mode, 2) of
        refuse ->
            {error, {refused, 'agent_x@h', {backend, "no clsact"}}};
        Mode ->
            {ok, PerAgent} = ticksplit_groups:by_agent(Drops, fun agent/1),
            Ms = case Opts of
                     #{duration_ms := D} -> D;
                     #{duration := Class} -> ticksplit_window:pick(Class, ?WINDOW)
                 end,
            Id = iolist_to_binary(io_lib:format("fake-~b", [erlang:unique_integer([positive])])),
            Start = now_us() + 20000,
            Fault = #{id => Id, agents => [A || {A, _, _} <- PerAgent], drops => PerAgent,
                      start_at_us => Start, duration_ms => Ms, direction => in},
            Subscribers = [P || {{subscriber, P}, _} <- ets:tab2list(?TAB)],
            spawn(fun() -> play(Fault, Mode, Subscribers) end),
            {ok, Fault}
    end.

%% At the start, every cut node sees its first peer go down; at the end, every agent reports
%% the heal (unless silent).
play(#{id := Id, drops := PerAgent, start_at_us := Start, duration_ms := Ms}, Mode, Subscribers) ->
    sleep_until(Start),
    [P ! {ticksplit_event, A, #{type => nodedown, time_us => now_us(), observer => N, peer => hd(Peers),
                                reason => net_tick_timeout, node_type => visible, seq => 2}}
     || {A, [N | _], Peers} <- PerAgent, P <- Subscribers],
    End = Start + Ms * 1000,
    sleep_until(End),
    [P ! {ticksplit_event, A, #{type => fault_healed, id => Id, reason => deadline, end_us => End + I,
                                start_us => Start, dropped_packets => 3, seq => 3}}
     || Mode =:= observed, {I, {A, _, _}} <- lists:enumerate(PerAgent), P <- Subscribers],
    ok.

sleep_until(Us) ->
    timer:sleep(max(0, (Us - now_us()) div 1000)).

agent(Node) ->
    [_, Host] = string:split(atom_to_list(Node), "@"),
    list_to_atom("agent_" ++ Host ++ "@" ++ Host).

now_us() -> erlang:system_time(microsecond).

log(Call) ->
    true = ets:insert(?TAB, {{call, erlang:unique_integer([monotonic])}, Call}),
    ok.
