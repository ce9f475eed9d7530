%% The demo's fragile application: a cluster-wide singleton of the kind many systems run (a
%% scheduler, a leader, a lock holder), registered with `global' and re-created by a keeper
%% on every node whenever global says it is missing. A connector on every node reconnects
%% to the others, as libcluster would. Both sides of a partition therefore end up running
%% their own singleton, until global meets the two names again after the heal and kills one.
%%
%% Every node keeps a log of what happened there in an ETS table (log/0), for the demo's
%% report: {TimeUs, Node, Event} with Event one of {started, Pid}, {stopped, Pid, Reason,
%% JobRuns}, {clash, Pid1, Pid2, Kept}.
-module(demo_singleton).

-export([start/2, log/0, whereis/0, resolve/3]).
-export([keeper/2, connector/2, job/0]).   % spawned

-define(NAME, demo_singleton).
-define(TAB, demo_singleton_log).
-define(JOB_MS, 100).

%% Starts the keeper and the connector on this node; returns when the log table exists.
start(Nodes, IntervalMs) ->
    Caller = self(),
    Keeper = spawn(fun() ->
                           ?TAB = ets:new(?TAB, [named_table, public, ordered_set]),
                           register(demo_keeper, self()),
                           Caller ! {self(), ready},
                           keeper(IntervalMs, #{})
                   end),
    receive {Keeper, ready} -> ok after 5000 -> error(keeper_not_ready) end,
    spawn(?MODULE, connector, [Nodes -- [node()], IntervalMs]),
    {ok, Keeper}.

%% This node's log, oldest first.
log() -> [{T, N, E} || {{T, _}, N, E} <- ets:tab2list(?TAB)].

%% Where this node's global thinks the singleton is.
whereis() -> global:whereis_name(?NAME).

%% global's name-clash resolution (after a partition heals), noted in the log: the default
%% of global, a random one survives.
resolve(Name, Pid1, Pid2) ->
    Kept = global:random_exit_name(Name, Pid1, Pid2),
    note({clash, Pid1, Pid2, Kept}),
    Kept.

keeper(IntervalMs, Mine) ->
    Mine1 = case global:whereis_name(?NAME) of
                undefined -> create(Mine);
                _ -> Mine
            end,
    receive
        {'DOWN', _, process, Pid, Reason} when is_map_key(Pid, Mine1) ->
            note({stopped, Pid, Reason, job_runs(Pid)}),
            keeper(IntervalMs, maps:remove(Pid, Mine1))
    after IntervalMs ->
            keeper(IntervalMs, Mine1)
    end.

create(Mine) ->
    Pid = spawn(?MODULE, job, []),
    case global:register_name(?NAME, Pid, fun ?MODULE:resolve/3) of
        yes ->
            monitor(process, Pid),
            note({started, Pid}),
            Mine#{Pid => true};
        no ->
            exit(Pid, kill),
            Mine
    end.

%% The singleton's work: a job every ?JOB_MS, counted (work done twice is the harm of a
%% split brain). It also holds registers (one per key) that clients read and write through
%% global (ticksplit_register_client with target {global, demo_singleton}), answered by
%% ticksplit_register_server's own handle_call (the demo loads it onto the nodes): a singleton
%% created during a split starts with none set, and the one global kills after the heal takes
%% its writes with it.
job() ->
    {ok, Regs} = ticksplit_register_server:init([]),
    job(Regs, erlang:monotonic_time(millisecond)).

job(Regs, Next) ->
    receive
        {'$gen_call', From, Request} ->
            {reply, Reply, Regs1} = ticksplit_register_server:handle_call(Request, From, Regs),
            gen_server:reply(From, Reply),
            job(Regs1, Next)
    after max(0, Next - erlang:monotonic_time(millisecond)) ->
            ets:update_counter(?TAB, {job_runs, self()}, 1, {{job_runs, self()}, 0}),
            job(Regs, Next + ?JOB_MS)
    end.

job_runs(Pid) ->
    case ets:lookup(?TAB, {job_runs, Pid}) of
        [{_, N}] -> N;
        [] -> 0
    end.

%% Connects to every node it does not see, every IntervalMs (a blocked attempt only delays
%% this process, never the keeper).
connector(Nodes, IntervalMs) ->
    [net_kernel:connect_node(N) || N <- Nodes, not lists:member(N, nodes())],
    receive after IntervalMs -> connector(Nodes, IntervalMs) end.

note(Event) ->
    ets:insert(?TAB, {{erlang:system_time(microsecond), erlang:unique_integer()}, node(), Event}).
