# Runs at install time (install(CODE) in packaging/CMakeLists.txt), for the agent's component:
# writes the systemd unit and the example agent.conf with this install's paths. They name
# absolute paths (ExecStart, --config, the cookie), which depend on the prefix of the install,
# not the one configured: `cmake --install build --prefix /opt/x` and cpack (which installs with
# prefix /usr) each get their own. The sources carry the Debian package's paths.
#
# In: CMAKE_INSTALL_PREFIX (the install's), TICKSPLIT_PACKAGING (this folder),
#     TICKSPLIT_STAGE (a scratch folder), TICKSPLIT_BINDIR (relative),
#     TICKSPLIT_SYSTEMD_UNIT_DIR (where systemd looks for system units, for prefix /usr).

# GNUInstallDirs' rule for /usr: its configuration is in /etc, not /usr/etc.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(etc /etc)
  set(units ${TICKSPLIT_SYSTEMD_UNIT_DIR})
else()
  set(etc ${CMAKE_INSTALL_PREFIX}/etc)
  set(units ${CMAKE_INSTALL_PREFIX}/lib/systemd/system)  # systemd also reads /usr/local/lib/...
endif()
set(bin ${CMAKE_INSTALL_PREFIX}/${TICKSPLIT_BINDIR})

function(ticksplit_install_edited source dest_dir)
  file(READ ${TICKSPLIT_PACKAGING}/${source} text)
  string(REPLACE "/usr/bin/ticksplit-agent" "${bin}/ticksplit-agent" text "${text}")
  string(REPLACE "/etc/ticksplit/" "${etc}/ticksplit/" text "${text}")
  get_filename_component(name ${source} NAME)
  file(WRITE ${TICKSPLIT_STAGE}/${name} "${text}")
  # file(INSTALL) puts $DESTDIR in front, as the generated install rules do (cpack's staging).
  file(INSTALL ${TICKSPLIT_STAGE}/${name} DESTINATION ${dest_dir} FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endfunction()

ticksplit_install_edited(systemd/ticksplit-agent.service ${units})
ticksplit_install_edited(agent.conf ${etc}/ticksplit)
