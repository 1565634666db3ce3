/**
 * The keywords an ssh client config may hold. ssh refuses a whole file for one word it does not
 * know ("Bad configuration option", readconf.c parse_token), so a typo such as `Hostnme` stops
 * ssh; lvsplay refuses it too rather than connect where ssh would not.
 *
 * Which ssh? A config is written for the ssh its user runs, older or newer than the one here.
 * The set is every keyword of readconf.c's keywords[] table from OpenSSH 7.0 to 10.x (a word one
 * release knows is not a typo, whichever release reads the file), lowercase as parse_token
 * compares them, and the words Debian's and Red Hat's builds add (the GSSAPI key exchange patch,
 * Debian's keep-alive and key-blacklist patches), which ssh 9.2p1 as Debian builds it accepts.
 * Checked against that binary: each of these that it does not know is one of the newer ones
 * listed last.
 */
export const SSH_CLIENT_KEYWORDS: ReadonlySet<string> = new Set([
  // deprecated or unsupported: read and ignored, with a message
  'protocol', 'cipher', 'fallbacktorsh', 'globalknownhostsfile2', 'rhostsauthentication', 'userknownhostsfile2',
  'useroaming', 'usersh', 'useprivilegedport', 'afstokenpassing', 'kerberosauthentication', 'kerberostgtpassing',
  'rsaauthentication', 'rhostsrsaauthentication', 'compressionlevel', 'gssapiauthentication', 'gssapidelegatecredentials',
  'pkcs11provider', 'smartcarddevice',
  // the rest of OpenSSH 9.2's table
  'forwardagent', 'forwardx11', 'forwardx11trusted', 'forwardx11timeout', 'exitonforwardfailure', 'xauthlocation',
  'gatewayports', 'passwordauthentication', 'kbdinteractiveauthentication', 'kbdinteractivedevices',
  'challengeresponseauthentication', 'skeyauthentication', 'tisauthentication', 'pubkeyauthentication',
  'dsaauthentication', 'hostbasedauthentication', 'identityfile', 'identityfile2', 'identitiesonly', 'certificatefile',
  'addkeystoagent', 'identityagent', 'hostname', 'hostkeyalias', 'proxycommand', 'port', 'ciphers', 'macs',
  'remoteforward', 'localforward', 'permitremoteopen', 'user', 'host', 'match', 'escapechar', 'globalknownhostsfile',
  'userknownhostsfile', 'connectionattempts', 'batchmode', 'checkhostip', 'stricthostkeychecking', 'compression',
  'tcpkeepalive', 'keepalive', 'numberofpasswordprompts', 'syslogfacility', 'loglevel', 'logverbose', 'dynamicforward',
  'preferredauthentications', 'hostkeyalgorithms', 'casignaturealgorithms', 'bindaddress', 'bindinterface',
  'clearallforwardings', 'enablesshkeysign', 'verifyhostkeydns', 'nohostauthenticationforlocalhost', 'rekeylimit',
  'connecttimeout', 'addressfamily', 'serveraliveinterval', 'serveralivecountmax', 'sendenv', 'setenv', 'controlpath',
  'controlmaster', 'controlpersist', 'hashknownhosts', 'include', 'tunnel', 'tunneldevice', 'localcommand',
  'permitlocalcommand', 'remotecommand', 'visualhostkey', 'kexalgorithms', 'ipqos', 'requesttty', 'sessiontype',
  'stdinnull', 'forkafterauthentication', 'proxyusefdpass', 'canonicaldomains', 'canonicalizefallbacklocal',
  'canonicalizehostname', 'canonicalizemaxdots', 'canonicalizepermittedcnames', 'streamlocalbindmask',
  'streamlocalbindunlink', 'revokedhostkeys', 'fingerprinthash', 'updatehostkeys', 'hostbasedacceptedalgorithms',
  'hostbasedkeytypes', 'pubkeyacceptedalgorithms', 'pubkeyacceptedkeytypes', 'ignoreunknown', 'proxyjump',
  'securitykeyprovider', 'knownhostscommand', 'requiredrsasize', 'enableescapecommandline',
  // distributions' own (Debian 12's ssh 9.2p1 knows each)
  'gssapikeyexchange', 'gssapiclientidentity', 'gssapiserveridentity', 'gssapirenewalforcesrekey', 'gssapitrustdns',
  'gssapikexalgorithms', 'protocolkeepalives', 'setuptimeout', 'useblacklistedkeys',
  // older or newer than 9.2 (OpenSSH 8.x's name, then 9.3 to 10.x): unknown to Debian 12's ssh
  'hostbasedalgorithms', 'channeltimeout', 'obscurekeystroketiming', 'tag', 'versionaddendum', 'refuseconnection',
  'warnweakcrypto',
]);
