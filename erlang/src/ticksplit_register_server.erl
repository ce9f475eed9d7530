%% @doc An example target: registers (one per key, each initially `null') in a gen_server, on
%% one node of the cluster. Its code must be on that node first:
%% ```
%% ok = ticksplit_workload:load_modules([A], [ticksplit_register_server]),
%% {ok, _} = ticksplit_register_server:start(A, my_register),
%% Client = {ticksplit_register_client, #{target => {local, my_register, A}}}.
%% '''
%% Requests (gen_server calls), `Key' any term (`undefined' for a history without keys):
%% `{read, Key}' → `{ok, V}'; `{write, Key, V}' → `ok'; `{cas, Key, From, To}' → `ok' or
%% `{error, mismatch}'. A single copy answering every request in order is linearizable
%% whatever the network does: clients cut from it time out.
-module(ticksplit_register_server).
-behaviour(gen_server).

-export([start/2, start_global/2, stop/2, stop_global/1]).
-export([init/1, handle_call/3, handle_cast/2]).

-define(CALL_MS, 5000).

%% @doc Starts the register on `Node', registered there as `Name', not linked to anything.
-spec start(node(), atom()) -> {ok, pid()} | {error, term()}.
start(Node, Name) ->
    start_on(Node, {local, Name}).

%% @doc Starts the register on `Node', registered with `global' as `Name'.
-spec start_global(node(), atom()) -> {ok, pid()} | {error, term()}.
start_global(Node, Name) ->
    start_on(Node, {global, Name}).

%% @doc Stops the register `Name' on `Node'; `ok' also when it is not running.
-spec stop(node(), atom()) -> ok | {error, term()}.
stop(Node, Name) ->
    stop_on(Node, Name).

%% @doc Stops the register registered with `global' as `Name'; `ok' also when there is none.
-spec stop_global(atom()) -> ok | {error, term()}.
stop_global(Name) ->
    case global:whereis_name(Name) of
        undefined -> ok;
        Pid -> stop_on(node(Pid), Pid)
    end.

start_on(Node, RegName) ->
    try erpc:call(Node, gen_server, start, [RegName, ?MODULE, [], []], ?CALL_MS)
    catch Class:Reason -> {error, {Class, Reason}}
    end.

stop_on(Node, Server) ->
    try erpc:call(Node, gen_server, stop, [Server], ?CALL_MS)
    catch
        exit:{exception, noproc} -> ok;   % gen_server:stop's exit when no one has the name
        Class:Reason -> {error, {Class, Reason}}
    end.

%% @private
-spec init([]) -> {ok, term()}.
init([]) ->
    {ok, #{}}.

%% @private
-spec handle_call(term(), gen_server:from(), map()) -> {reply, term(), map()}.
handle_call({read, K}, _, Regs) -> {reply, {ok, maps:get(K, Regs, null)}, Regs};
handle_call({write, K, New}, _, Regs) -> {reply, ok, Regs#{K => New}};
handle_call({cas, K, From, To}, _, Regs) ->
    case maps:get(K, Regs, null) of
        From -> {reply, ok, Regs#{K => To}};
        _ -> {reply, {error, mismatch}, Regs}
    end;
handle_call(Other, _, Regs) -> {reply, {error, {unknown_request, Other}}, Regs}.

%% @private
-spec handle_cast(term(), map()) -> {noreply, map()}.
handle_cast(_, Regs) -> {noreply, Regs}.
