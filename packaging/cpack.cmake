# CPack: one .deb per install component (packaging/CMakeLists.txt lists them), Depends computed
# by dpkg-shlibdeps from the ELF files each holds. Built by scripts/package.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ticksplit)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "ticksplit maintainers <maintainers@users.noreply.h-seed-1877c43f.example>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/packages)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL agent ctl erlang)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # NAME_VERSION_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# dpkg-shlibdeps: each package Depends on the packages of the shared libraries its binaries
# load (libnl, spdlog, fmt, boost, yaml-cpp, OpenSSL, libstdc++, libc ...).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)  # maintainer scripts 0755, conffiles 0644
# Stripped binaries (the RelWithDebInfo agent package installs 51 MB with debug information,
# 1.6 MB without).
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_AGENT_PACKAGE_NAME ticksplit-agent)
set(CPACK_COMPONENT_AGENT_DESCRIPTION
    "ticksplit agent: partitions, pauses and kills for the BEAM nodes of a host
Joins the host's Erlang nodes as a hidden C-node and applies faults timed around
net_ticktime: partitions through an eBPF classifier on clsact, pauses and kills
through detached guards. Runs as the systemd service ticksplit-agent, configured
in /etc/ticksplit/agent.conf.")
set(CPACK_DEBIAN_AGENT_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_SOURCE_DIR}/debian/conffiles ${CMAKE_CURRENT_SOURCE_DIR}/debian/postinst
    ${CMAKE_CURRENT_SOURCE_DIR}/debian/prerm ${CMAKE_CURRENT_SOURCE_DIR}/debian/postrm)
# useradd, getent: passwd and libc-bin are essential on Debian, so no Depends for them.

set(CPACK_DEBIAN_CTL_PACKAGE_NAME ticksplit-ctl)
set(CPACK_COMPONENT_CTL_DESCRIPTION
    "ticksplit controller: runs fault schedules against ticksplit agents
ticksplit-ctl plans and runs YAML schedules of partitions, pauses and kills
against the agents of a BEAM cluster, writes the history, draws the report and
checks histories of client operations (linearizability, set, queue, counter).")

set(CPACK_DEBIAN_ERLANG_PACKAGE_NAME ticksplit-erlang)
set(CPACK_DEBIAN_ERLANG_PACKAGE_ARCHITECTURE all)  # .beam files run on any ERTS
set(CPACK_DEBIAN_ERLANG_PACKAGE_DEPENDS erlang-base)
set(CPACK_DEBIAN_ERLANG_PACKAGE_SUGGESTS ticksplit-ctl)  # ticksplit_check runs ticksplit-ctl check
set(CPACK_COMPONENT_ERLANG_DESCRIPTION
    "ticksplit Erlang library: fault injection from test code
The ticksplit OTP application: arms partitions and other faults on every agent
with one start, and a Jepsen-style loop (workload, nemesis, history) for testing
an Erlang application under faults. Installed in Erlang's lib directory, so
code:lib_dir(ticksplit) finds it.")

include(CPack)
