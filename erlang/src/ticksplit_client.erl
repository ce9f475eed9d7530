%% @doc The behaviour of a workload client: how ticksplit_workload talks to the system under
%% test. A client is a connection from one node of the cluster; the workload opens one per
%% logical client, invokes operations on it and records each in the history.
%%
%% <ul>
%%  <li>`open(Node, Opts)': connect through `Node' (the node the workload chose for this
%%      client; `Opts' are the `ClientOpts' of the workload's `client => {Module,
%%      ClientOpts}'). Return `{ok, State}' or `{error, Why}'. It runs in the client's
%%      process, so it may own sockets or links.</li>
%%  <li>`invoke(Op, TimeoutMs, State)': perform `Op', a map `#{f := F, value := V}' with `key'
%%      when the workload has keys, within `TimeoutMs'. Return `{ok, Value}' when it took
%%      effect (Value: what a read, dequeue or drain returned; anything for the others) or
%%      `{fail, Why}' only when it certainly did not (a cas whose expected value differed,
%%      a server that was not there, a dequeue of an empty queue). Raise (or exit) when you do
%%      not know: a timeout or a lost connection is indeterminate (`info'), never `fail'.
%%      invoke runs in a fresh process each time (the workload kills it at `TimeoutMs' + 50
%%      ms), so State must be usable from any process and invoke cannot change it.</li>
%%  <li>`close(State)': release what open took. After an indeterminate operation the
%%      workload closes the client and opens a new one on the same node: a connection in an
%%      unknown state is not reused.</li>
%% </ul>
%%
%% Operations (`f'): `read' (value `null'; returns the register's value, or a list for a set),
%% `write', `cas' (value `{From, To}'), `append', `add' (to a set or a counter), `enqueue',
%% `dequeue' (value `null'; returns the element), `drain' (value `null'; returns a list).
%%
%% A client for a key-value service reached from the client's node over erpc, to copy from
%% (see also ticksplit_register_client and ticksplit_mnesia_client):
%% ```
%% -module(kv_client).
%% -behaviour(ticksplit_client).
%% -export([open/2, invoke/3, close/1]).
%%
%% open(Node, #{service := Name}) -> {ok, #{node => Node, service => Name}}.
%%
%% invoke(#{f := read, key := K}, Timeout, #{node := N, service := S}) ->
%%     {ok, erpc:call(N, gen_server, call, [S, {get, K}, Timeout], Timeout + 100)};
%% invoke(#{f := write, key := K, value := V}, Timeout, #{node := N, service := S}) ->
%%     ok = erpc:call(N, gen_server, call, [S, {put, K, V}, Timeout], Timeout + 100),
%%     {ok, V};
%% invoke(#{f := cas, key := K, value := {From, To}}, Timeout, #{node := N, service := S}) ->
%%     case erpc:call(N, gen_server, call, [S, {cas, K, From, To}, Timeout], Timeout + 100) of
%%         ok -> {ok, {From, To}};
%%         {error, mismatch} -> {fail, mismatch}
%%     end.
%%
%% close(_) -> ok.
%% '''
-module(ticksplit_client).

-type op() :: #{f := ticksplit_ops:f(), value := term(), key => term()}.
-export_type([op/0]).

-callback open(Node :: node(), Opts :: map()) -> {ok, State :: term()} | {error, term()}.
-callback invoke(Op :: op(), TimeoutMs :: pos_integer(), State :: term()) ->
    {ok, Value :: term()} | {fail, Why :: term()}.
-callback close(State :: term()) -> ok.
