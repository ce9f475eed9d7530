%% The Jepsen loop on a real cluster: a workload of clients on every node records its
%% operations while the library's nemesis partitions the cluster, and `ticksplit-ctl check'
%% says whether the target stayed linearizable and which fault broke it.
%%
%% Needs the cluster of test/cluster.config with an agent on every host (`scripts/cluster up 3',
%% net_ticktime 2) and ticksplit-ctl (TICKSPLIT_CTL); scripts/test runs it from the cluster's
%% control namespace through tests/integration/erlang_ct.escript.
-module(ticksplit_jepsen_SUITE).
-include_lib("common_test/include/ct.hrl").
-import(ticksplit_ct_lib, [mesh/1, await/2]).

-export([suite/0, all/0, init_per_suite/1, end_per_suite/1, init_per_testcase/2,
         end_per_testcase/2]).
-export([gen_server_register_stays_linearizable/1, mnesia_register_loses_writes/1]).

-define(REGISTER, ct_register).
-define(TABLE, ct_mnesia_register).

suite() -> [{require, nodes}, {timetrap, {seconds, 120}}].

all() -> [gen_server_register_stays_linearizable, mnesia_register_loses_writes].

init_per_suite(Config) ->
    Nodes = ct:get_config(nodes),
    [pong = net_adm:ping(N) || N <- Nodes],
    ok = ticksplit_workload:load_modules(Nodes, [ticksplit_register_server, ticksplit_mnesia_client]),
    [{nodes, Nodes} | Config].

end_per_suite(_Config) -> ok.

init_per_testcase(_Case, Config) ->
    mesh(?config(nodes, Config)),
    Config.

end_per_testcase(Case, Config) ->
    Nodes = ?config(nodes, Config),
    ok = ticksplit:heal_all(Nodes),
    mesh(Nodes),
    case Case of
        gen_server_register_stays_linearizable -> ticksplit_register_server:stop(hd(Nodes), ?REGISTER);
        mnesia_register_loses_writes -> ok = ticksplit_mnesia_client:teardown(Nodes, ?TABLE)
    end,
    ok.

%%% Cases

%% One copy of the register, on the isolated node: clients on the other side time out
%% (indeterminate, `info'), nothing is ever read stale, so the history is linearizable.
gen_server_register_stays_linearizable(Config) ->
    [A | _] = Nodes = ?config(nodes, Config),
    {ok, _} = ticksplit_register_server:start(A, ?REGISTER),
    File = history_file(Config, "register"),
    {ok, Summary} =
        ticksplit_workload:run(#{client => {ticksplit_register_client, #{target => {local, ?REGISTER, A}}},
                                 nodes => Nodes, clients => 6, rate => 60, duration_ms => 8000,
                                 timeout_ms => 500, history => File, seed => 10,
                                 ops => [{2, read, null}, {1, write, {random, 1, 5}},
                                         {1, cas, fun() -> {rand:uniform(5), rand:uniform(5)} end}],
                                 nemesis => [{wait, 1500}, {isolate, A, #{duration => above_window}},
                                             {wait, 1500}]}),
    #{ok := Ok, info := Info} = Summary,
    true = Ok > 100,
    true = Info > 0,                          % the cut side's calls did time out
    [_] = lines(File, <<"fault_start">>),
    true = length(lines(File, <<"nodedown">>)) > 0,
    {valid, #{<<"verdict">> := <<"valid">>, <<"ops">> := Ops}} =
        ticksplit_check:run([File], cas_register, #{}),
    true = Ops >= Ok,
    ct:pal("gen_server register under an above-window isolate: ~p; valid over ~b operations",
           [maps:with([ok, fail, info], Summary), Ops]).

%% mnesia keeps a copy on every node and does not merge after a partition: once the sides
%% have seen each other go down, each side commits its own writes, and reads on one side
%% miss the other's. The checker finds it and names the split.
mnesia_register_loses_writes(Config) ->
    [A, B, C] = Nodes = ?config(nodes, Config),
    ok = ticksplit_mnesia_client:setup(Nodes, ?TABLE),
    File = history_file(Config, "mnesia"),
    {ok, _} =
        ticksplit_workload:run(#{client => {ticksplit_mnesia_client, #{table => ?TABLE}},
                                 nodes => Nodes, clients => 6, rate => 60, duration_ms => 9000,
                                 timeout_ms => 500, history => File, seed => 11, keys => [k1, k2],
                                 ops => [{1, read, null}, {1, write, unique}],
                                 nemesis => [{wait, 1500}, {split, [[A], [B, C]], #{duration => above_window}},
                                             {wait, 2000}]}),
    [#{<<"fault">> := FaultId}] = lines(File, <<"fault_start">>),
    {invalid, #{<<"keys">> := Keys}} = ticksplit_check:run([File], cas_register, #{}),
    Anomalies = [An || #{<<"verdict">> := <<"invalid">>, <<"anomalies">> := As} <- Keys, An <- As],
    true = Anomalies =/= [],
    Named = [An || #{<<"faults">> := Fs} = An <- Anomalies,
                   lists:any(fun(#{<<"fault">> := F}) -> F =:= FaultId end, Fs)],
    true = Named =/= [],
    ct:pal("mnesia register under an above-window split: ~b key(s) invalid, e.g. ~s",
           [length(Anomalies), maps:get(<<"detail">>, hd(Named))]).

%%% Helpers

history_file(Config, Name) ->
    filename:join(?config(priv_dir, Config), Name ++ "-ops.jsonl").

%% The decoded lines of a history of one kind.
lines(File, Kind) ->
    {ok, Bin} = file:read_file(File),
    [M || L <- binary:split(Bin, <<"\n">>, [global, trim_all]),
          #{<<"kind">> := K} = M <- [ticksplit_json:decode(L)], K =:= Kind].
