%% @doc An example ticksplit_client: a register per key in an mnesia table with a RAM copy
%% on every node. Each operation is one transaction on the client's node, so a partition
%% shows what mnesia does with it (each side goes on committing on its own copy, and mnesia
%% does not merge them when the partition heals).
%%
%% The transactions run this module's code on the cluster's nodes: load it there first.
%% ```
%% ok = ticksplit_workload:load_modules(Nodes, [ticksplit_mnesia_client]),
%% ok = ticksplit_mnesia_client:setup(Nodes, my_table),
%% {ok, _} = ticksplit_workload:run(#{client => {ticksplit_mnesia_client, #{table => my_table}},
%%                                    nodes => Nodes, keys => [k1, k2], ...}),
%% ok = ticksplit_mnesia_client:teardown(Nodes, my_table).
%% '''
%% Operations: read (`{ok, null}' for a key never written), write, cas (`{From, To}' or
%% `[From, To]'; a different current value aborts with `{fail, {mismatch, Current}}'). An
%% aborted transaction is `{fail, Why}' (mnesia transactions are atomic); an erpc timeout or
%% a lost node raises (indeterminate). Without `key' in the operation the key is `register'.
-module(ticksplit_mnesia_client).
-behaviour(ticksplit_client).

-export([setup/2, teardown/2, open/2, invoke/3, close/1, transaction/4]).

-define(CALL_MS, 10000).
-define(STOP_WAIT_MS, 10000).

%% @doc Starts mnesia (RAM schema) on every node, joins them and creates `Table', a set of
%% `{Table, Key, Value}' with `ram_copies' on all of them (replacing a table of that name).
-spec setup([node(), ...], atom()) -> ok | {error, term()}.
setup([First | _] = Nodes, Table) ->
    steps([fun() -> each(Nodes, fun(N) -> rpc(N, mnesia, start, []) end) end,
           fun() -> each(Nodes, fun(N) -> join(N, Nodes -- [N]) end) end,
           fun() -> create(First, Nodes, Table) end,
           fun() -> each(Nodes, fun(N) -> wait_table(N, Table) end) end]).

%% @doc Deletes `Table' and stops mnesia on every node, waiting until it has stopped. Meant
%% for after a partition too, when the copies disagree: a failed delete or stop is ignored
%% node by node; what counts is that mnesia is stopped everywhere in the end, else the first
%% node where it is not (`{still_running, N}') or that could not be asked.
-spec teardown([node()], atom()) -> ok | {error, term()}.
teardown(Nodes, Table) ->
    _ = [catch rpc(N, mnesia, delete_table, [Table]) || N <- lists:sublist(Nodes, 1)],
    _ = [catch rpc(N, mnesia, stop, []) || N <- Nodes],
    Deadline = erlang:monotonic_time(millisecond) + ?STOP_WAIT_MS,
    case [E || N <- Nodes, {error, _} = E <- [await_stopped(N, Deadline)]] of
        [] -> ok;
        [First | _] -> First
    end.

%% @doc Option `table' (required).
-spec open(node(), map()) -> {ok, map()} | {error, term()}.
open(Node, #{table := Table}) when is_atom(Table) ->
    {ok, #{node => Node, table => Table}};
open(_, Opts) ->
    {error, {bad_options, Opts}}.

%% @doc One transaction on the client's node; see the module doc.
-spec invoke(ticksplit_client:op(), pos_integer(), map()) -> {ok, term()} | {fail, term()}.
invoke(#{f := F, value := V} = Op, Timeout, #{node := Node, table := Table})
  when F =:= read; F =:= write; F =:= cas ->
    Key = maps:get(key, Op, register),
    case erpc:call(Node, ?MODULE, transaction, [Table, F, Key, V], Timeout) of
        {atomic, Result} -> {ok, Result};
        {aborted, Why} -> {fail, Why}
    end;
invoke(#{f := F}, _, _) ->
    {fail, {unsupported, F}}.

%% @doc Nothing to release.
-spec close(map()) -> ok.
close(_) ->
    ok.

%% @private Runs on the client's node (hence exported).
-spec transaction(atom(), read | write | cas, term(), term()) -> {atomic, term()} | {aborted, term()}.
transaction(Table, F, Key, V) ->
    mnesia:transaction(fun() -> op(Table, F, Key, V) end).

op(Table, read, Key, _) ->
    case mnesia:read(Table, Key) of
        [] -> null;
        [{Table, Key, Value}] -> Value
    end;
op(Table, write, Key, V) ->
    ok = mnesia:write({Table, Key, V}),
    V;
op(Table, cas, Key, {From, To}) ->
    op(Table, cas, Key, [From, To]);
op(Table, cas, Key, [From, To]) ->
    Current = case mnesia:read(Table, Key, write) of
                  [] -> null;
                  [{Table, Key, Value}] -> Value
              end,
    case Current =:= From of
        true -> ok = mnesia:write({Table, Key, To}), [From, To];
        false -> mnesia:abort({mismatch, Current})
    end.

%%% Setup helpers

join(_, []) -> ok;
join(Node, Others) ->
    case rpc(Node, mnesia, change_config, [extra_db_nodes, Others]) of
        {ok, _} -> ok;
        Error -> Error
    end.

create(Node, Nodes, Table) ->
    Def = [{ram_copies, Nodes}, {attributes, [key, value]}],
    case rpc(Node, mnesia, create_table, [Table, Def]) of
        {atomic, ok} -> ok;
        {aborted, {already_exists, Table}} ->
            case rpc(Node, mnesia, delete_table, [Table]) of
                {atomic, ok} -> create(Node, Nodes, Table);
                Other -> {error, {delete_table, Table, Other}}
            end;
        Other -> {error, {create_table, Table, Other}}
    end.

wait_table(Node, Table) ->
    case rpc(Node, mnesia, wait_for_tables, [[Table], ?CALL_MS]) of
        ok -> ok;
        Other -> {error, {wait_for_tables, Node, Other}}
    end.

%% Polls until mnesia says it is not running; a node that cannot be asked is given up on.
await_stopped(Node, Deadline) ->
    case rpc(Node, mnesia, system_info, [is_running]) of
        no -> ok;
        {error, _} = Unreachable -> Unreachable;
        _ ->
            case erlang:monotonic_time(millisecond) >= Deadline of
                true -> {error, {still_running, Node}};
                false -> timer:sleep(50), await_stopped(Node, Deadline)
            end
    end.

rpc(Node, M, F, A) ->
    try erpc:call(Node, M, F, A, ?CALL_MS)
    catch Class:Reason -> {error, {Node, Class, Reason}}
    end.

each([], _) -> ok;
each([N | Rest], Fun) ->
    case Fun(N) of
        ok -> each(Rest, Fun);
        {error, _} = E -> E;
        Other -> {error, {N, Other}}
    end.

steps([]) -> ok;
steps([Step | Rest]) ->
    case Step() of
        ok -> steps(Rest);
        Error -> Error
    end.
