%% @doc An example ticksplit_client: registers served by a gen_server speaking the protocol
%% of ticksplit_register_server (`{read, Key}', `{write, Key, V}', `{cas, Key, From, To}';
%% the operation's `key', or `undefined').
%%
%% Options: `target => {local, Name, ServerNode}' (registered locally on ServerNode) or
%% `{global, Name}' (registered with `global', as the demo's singleton is). Every operation
%% runs on the client's node, `erpc:call(Node, gen_server, call, [Target, Request, Timeout],
%% Timeout + 100)', so it sees that node's view of the cluster: a node cut from the server
%% times out, and with `global' each side of a split may find its own server.
%%
%% Outcomes: read → `{ok, V}'; write → `{ok, V}'; cas (`{From, To}' or `[From, To]') →
%% `{ok, [From, To]}' or `{fail, mismatch}'; no such server (`noproc': nothing received the
%% request) → `{fail, noproc}'; a server's `{error, Other}' → `{fail, Other}'. Every other
%% exception (a timeout, a lost node) propagates: the workload records it as indeterminate.
%%
%% ```
%% ticksplit_workload:run(#{client => {ticksplit_register_client,
%%                                     #{target => {global, demo_singleton}}},
%%                          nodes => Nodes, duration_ms => 10000,
%%                          ops => [{2, read, null}, {1, write, unique}],
%%                          history => "ops.jsonl"}).
%% '''
-module(ticksplit_register_client).
-behaviour(ticksplit_client).

-export([open/2, invoke/3, close/1]).

%% @doc Checks the target; nothing to connect (distribution does that).
-spec open(node(), map()) -> {ok, map()} | {error, term()}.
open(Node, #{target := {local, Name, ServerNode}}) when is_atom(Name), is_atom(ServerNode) ->
    {ok, #{node => Node, target => {Name, ServerNode}}};
open(Node, #{target := {global, _} = Target}) ->
    {ok, #{node => Node, target => Target}};
open(_, Opts) ->
    {error, {bad_options, Opts}}.

%% @doc Runs one operation from the client's node; see the module doc for the outcomes.
-spec invoke(ticksplit_client:op(), pos_integer(), map()) -> {ok, term()} | {fail, term()}.
invoke(#{f := read} = Op, Timeout, S) ->
    case call({read, key(Op)}, Timeout, S) of
        {ok, V} -> {ok, V};
        Other -> answer(Other)
    end;
invoke(#{f := write, value := V} = Op, Timeout, S) ->
    case call({write, key(Op), V}, Timeout, S) of
        ok -> {ok, V};
        Other -> answer(Other)
    end;
invoke(#{f := cas, value := Value} = Op, Timeout, S) ->
    [From, To] = case Value of
                     {A, B} -> [A, B];
                     [_, _] -> Value
                 end,
    case call({cas, key(Op), From, To}, Timeout, S) of
        ok -> {ok, [From, To]};
        Other -> answer(Other)
    end;
invoke(#{f := F}, _, _) ->
    {fail, {unsupported, F}}.

%% @doc Nothing to release.
-spec close(map()) -> ok.
close(_) ->
    ok.

key(Op) -> maps:get(key, Op, undefined).

call(Request, Timeout, #{node := Node, target := Target}) ->
    try erpc:call(Node, gen_server, call, [Target, Request, Timeout], Timeout + 100)
    catch
        exit:{exception, {noproc, _}} -> noproc   % gen_server:call's exit when no one has the name
    end.

answer(noproc) -> {fail, noproc};
answer({error, Why}) -> {fail, Why};
answer(Other) -> error({unexpected_reply, Other}).
