%% @doc Node names and the agent that serves a node by default: the rule of the agent and of
%% ticksplit-ctl (common/node_name.hpp), both pinned by tests/data/golden/node_names.txt.
-module(ticksplit_node).

-export([valid/1, default_agent/1]).

-define(MAX_NODE_NAME, 255).

%% @doc `Name@Host': exactly one `@' with something on both sides, printable ASCII without
%% spaces, at most 255 bytes.
-spec valid(term()) -> boolean().
valid(Node) when is_atom(Node) -> valid(atom_to_list(Node));
valid(Name) when is_list(Name) ->
    Printable = lists:all(fun(C) -> is_integer(C) andalso C > $\s andalso C < 127 end, Name),
    Printable andalso length(Name) =< ?MAX_NODE_NAME andalso
        case string:split(Name, "@", all) of
            [N, H] -> N =/= "" andalso H =/= "";
            _ -> false
        end;
valid(_) -> false.

name(Node) when is_atom(Node) -> atom_to_list(Node);
name(Name) -> Name.

%% @doc `ticksplit@Host' for `Name@Host'; `{bad_node, Node}' for anything that is not a node
%% name or whose agent's name would not be one (a host of 246 bytes or more).
-spec default_agent(node() | string()) -> node().
default_agent(Node) ->
    Agent = case valid(Node) of
                true -> "ticksplit@" ++ lists:nth(2, string:split(name(Node), "@"));
                false -> ""
            end,
    case valid(Agent) of
        true -> list_to_atom(Agent);
        false -> error({bad_node, Node})
    end.
