; Samverka for one organisation: a per-user install (no administrator rights) of the one-folder
; build that installer/build.py made. build.py runs this with ISCC on the Windows CI runner:
;   python installer/build.py --profile installer/profiles/X.toml --installer
; which passes, per organisation:
;   /DAppId=<UUID from the organisation's id>  /DOrgName=<name>  /DOrgSlug=<slug>
;   /DAppVersion=<version>  /DSourceDir=<dist folder>  /DIconFile=<.ico>
;   /DOutputDir=<folder>  /DOutputName=<file name without .exe>
; The user's data (the encrypted vault) lives in %LOCALAPPDATA%\Samverka, never in the program
; folder: an upgrade replaces the program's files and keeps the vault; uninstalling keeps it too.

#ifndef AppId
  #error Run through installer/build.py --installer (AppId, OrgName, … are defined there)
#endif

[Setup]
AppId={{{#AppId}}
AppName=Samverka – {#OrgName}
AppVersion={#AppVersion}
AppVerName=Samverka {#AppVersion} – {#OrgName}
AppPublisher={#OrgName}
DefaultDirName={autopf}\Samverka {#OrgName}
DefaultGroupName=Samverka – {#OrgName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
SetupIconFile={#IconFile}
UninstallDisplayIcon={app}\samverka.exe
UninstallDisplayName=Samverka – {#OrgName}
OutputDir={#OutputDir}
OutputBaseFilename={#OutputName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes

[Languages]
; Swedish ships with Inno Setup from 6.5 on; an older compiler builds an English-only installer
#if FileExists(AddBackslash(CompilerPath) + "Languages\Swedish.isl")
Name: "sv"; MessagesFile: "compiler:Languages\Swedish.isl"
#endif
Name: "en"; MessagesFile: "compiler:Default.isl"

[InstallDelete]
; an upgrade: nothing of the previous version's program files stays behind
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\Samverka – {#OrgName}"; Filename: "{app}\samverka.exe"
Name: "{autodesktop}\Samverka – {#OrgName}"; Filename: "{app}\samverka.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Run]
Filename: "{app}\samverka.exe"; Description: "{cm:LaunchProgram,Samverka}"; Flags: nowait postinstall skipifsilent
