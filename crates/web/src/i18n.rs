//! The pages' two languages. Vietnamese is the default; English is one click away on every
//! page (a cookie remembers the choice). Every text a page shows is a field of [`Texts`], so a
//! text missing in one language does not compile.

/// A page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Tiếng Việt, the default.
    #[default]
    Vi,
    /// English.
    En,
}

/// The cookie that remembers the language.
pub const LANG_COOKIE: &str = "qrid_lang";

impl Lang {
    /// The BCP 47 tag (`lang` attribute).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    /// The language a tag names; anything else is the default.
    pub fn from_tag(tag: &str) -> Lang {
        match tag {
            "en" => Lang::En,
            _ => Lang::Vi,
        }
    }

    /// The other language (the switch offers it).
    pub fn other(self) -> Lang {
        match self {
            Lang::Vi => Lang::En,
            Lang::En => Lang::Vi,
        }
    }

    /// Its name in itself.
    pub fn name(self) -> &'static str {
        match self {
            Lang::Vi => "Tiếng Việt",
            Lang::En => "English",
        }
    }

    /// The texts in this language.
    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Vi => &VI,
            Lang::En => &EN,
        }
    }
}

macro_rules! texts {
    ($( $field:ident : $vi:literal , $en:literal ; )+) => {
        /// Every text of the pages, in one language.
        #[derive(Debug)]
        pub struct Texts {
            $( #[doc = $en] pub $field: &'static str, )+
        }
        /// Vietnamese.
        pub static VI: Texts = Texts { $( $field: $vi, )+ };
        /// English.
        pub static EN: Texts = Texts { $( $field: $en, )+ };
    };
}

texts! {
    app_name: "Văn phòng định danh", "Identity office";
    skip: "Bỏ qua, đến nội dung chính", "Skip to main content";
    nav_label: "Điều hướng chính", "Main navigation";
    nav_home: "Trang chính", "Home";
    nav_search: "Tìm công dân", "Find a citizen";
    nav_enrol: "Đăng ký công dân", "Enrol a citizen";
    nav_counter: "Quầy kiểm tra", "Counter";
    nav_admin: "Quản trị", "Administration";
    signed_in_as: "Đang đăng nhập:", "Signed in as:";
    sign_in: "Đăng nhập", "Sign in";
    sign_out: "Đăng xuất", "Sign out";
    sign_in_title: "Đăng nhập cho cán bộ", "Staff sign-in";
    username: "Tên đăng nhập", "Username";
    password: "Mật khẩu", "Password";
    wrong_password: "Sai tên đăng nhập hoặc mật khẩu.", "Wrong username or password.";
    locked_out: "Quá nhiều lần đăng nhập sai. Hãy thử lại sau ít phút.", "Too many failed sign-ins. Try again in a few minutes.";
    session_expired: "Phiên làm việc đã hết hạn. Hãy đăng nhập lại.", "Your session has expired. Sign in again.";
    session_idle: "Phiên làm việc đã kết thúc vì không hoạt động. Hãy đăng nhập lại.", "Your session ended after a time without use. Sign in again.";
    session_changed: "Tài khoản đã thay đổi từ khi bạn đăng nhập. Hãy đăng nhập lại.", "Your account was changed since you signed in. Sign in again.";
    signed_out: "Bạn đã đăng xuất.", "You have signed out.";
    home_title: "Trang chính", "Home";
    home_intro: "Chọn một việc:", "Choose a task:";
    role: "Vai trò", "Role";
    role_admin: "Quản trị viên", "Administrator";
    role_issuer: "Cán bộ cấp phát", "Issuing officer";
    role_auditor: "Kiểm toán viên", "Auditor";
    role_clerk: "Nhân viên quầy", "Counter clerk";
    search_title: "Tìm công dân", "Find a citizen";
    search_label: "Số định danh hoặc họ tên", "Id number or full name";
    search_hint: "Có thể gõ không dấu: \"nguyen van an\" tìm thấy \"Nguyễn Văn An\".", "Diacritics are optional: \"nguyen van an\" finds \"Nguyễn Văn An\".";
    search_button: "Tìm", "Search";
    search_none: "Không tìm thấy công dân nào.", "No citizen found.";
    search_results: "Kết quả", "Results";
    enrol_title: "Đăng ký công dân", "Enrol a citizen";
    enrol_errors: "Hãy sửa các lỗi sau:", "Please correct the following:";
    id_number: "Số định danh (12 chữ số)", "Id number (12 digits)";
    full_name: "Họ và tên", "Full name";
    date_of_birth: "Ngày sinh", "Date of birth";
    sex: "Giới tính", "Sex";
    sex_none: "(không ghi)", "(not recorded)";
    sex_m: "Nam", "Male";
    sex_f: "Nữ", "Female";
    sex_x: "Khác", "Other";
    nationality: "Quốc tịch (mã 2 chữ cái)", "Nationality (2-letter code)";
    place_of_origin: "Quê quán", "Place of origin";
    place_of_residence: "Nơi thường trú", "Place of residence";
    photo: "Ảnh chân dung", "Face photo";
    photo_hint: "Chụp bằng máy ảnh hoặc chọn tệp PNG/JPEG (tối đa 10 MB).", "Take it with the camera or choose a PNG/JPEG file (10 MB at most).";
    camera_start: "Bật máy ảnh", "Start the camera";
    camera_take: "Chụp ảnh", "Take the photo";
    camera_unavailable: "Không dùng được máy ảnh; hãy chọn tệp.", "The camera cannot be used; choose a file.";
    photo_taken: "Đã chụp ảnh.", "Photo taken.";
    enrol_button: "Đăng ký", "Enrol";
    already_enrolled: "Số định danh này đã được đăng ký.", "This id number is enrolled already.";
    open_existing: "Mở hồ sơ đã có", "Open the existing record";
    citizen_title: "Hồ sơ công dân", "Citizen record";
    no_photo: "Chưa có ảnh.", "No photo on file.";
    photo_of: "Ảnh chân dung của công dân", "The citizen's face photo";
    credentials: "Thẻ định danh đã cấp", "Credentials issued";
    no_credentials: "Chưa cấp thẻ nào.", "No credential issued yet.";
    issue_title: "Cấp thẻ định danh", "Issue a credential";
    profile: "Loại thẻ", "Profile";
    profile_digest: "Mã băm ảnh (thẻ in có ảnh bên cạnh mã QR)", "Photo digest (printed card with the photo beside the QR)";
    profile_photo: "Ảnh trong mã QR (quầy ngoại tuyến cũng thấy khuôn mặt)", "Photo in the QR (offline counters see the face too)";
    valid_days: "Số ngày hiệu lực", "Days of validity";
    replaces: "Thay thế thẻ", "Replaces";
    replaces_none: "(thẻ mới, không thay thế)", "(a new card, replacing none)";
    issue_button: "Cấp thẻ", "Issue";
    credential: "Thẻ", "Credential";
    issued: "Ngày cấp", "Issued";
    expires: "Hết hạn", "Expires";
    status: "Trạng thái", "Status";
    status_valid: "Còn hiệu lực", "Valid";
    status_revoked: "Đã thu hồi", "Revoked";
    status_suspended: "Tạm dừng", "Suspended";
    reason: "Lý do", "Reason";
    revoke: "Thu hồi", "Revoke";
    suspend: "Tạm dừng", "Suspend";
    reinstate: "Khôi phục", "Reinstate";
    print_card: "In thẻ", "Print the card";
    actions: "Thao tác", "Actions";
    done_issued: "Đã cấp thẻ.", "The credential was issued.";
    done_enrolled: "Đã đăng ký công dân.", "The citizen was enrolled.";
    done_status: "Đã đổi trạng thái.", "The status was changed.";
    card_title: "Thẻ định danh", "Identity card";
    card_country: "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "SOCIALIST REPUBLIC OF VIET NAM";
    card_print: "In", "Print";
    counter_title: "Quầy kiểm tra", "Counter";
    counter_intro: "Đưa mã QR trước máy ảnh, hoặc chọn ảnh chụp mã QR.", "Hold the QR code to the camera, or choose a photo of it.";
    counter_camera: "Quét bằng máy ảnh", "Scan with the camera";
    counter_stop: "Dừng máy ảnh", "Stop the camera";
    counter_file: "Ảnh mã QR", "Photo of a QR code";
    counter_waiting: "Đang chờ mã QR…", "Waiting for a QR code…";
    counter_checking: "Đang kiểm tra…", "Checking…";
    counter_clear: "Xóa kết quả", "Clear the result";
    verdict: "Kết quả", "Verdict";
    offline_banner: "Không kết nối được dịch vụ: quầy đang kiểm tra ngoại tuyến, trên thiết bị này.", "The service cannot be reached: the counter is checking offline, on this device.";
    offline_valid: "Kiểm tra ngoại tuyến: chữ ký đúng, còn hạn, không bị thu hồi theo danh sách trạng thái đã lưu.", "Checked offline: genuine, in date, and not revoked in the saved status list.";
    offline_invalid: "Kiểm tra ngoại tuyến: không hợp lệ.", "Checked offline: not valid.";
    offline_age: "Danh sách trạng thái đã lưu cách đây {age}.", "The saved status list is {age} old.";
    offline_none: "Chưa lưu dữ liệu để kiểm tra ngoại tuyến: hãy mở quầy khi có mạng.", "No data saved for offline checks: open the counter once while online.";
    offline_unchecked: "Không có danh sách trạng thái đã lưu (còn dùng được) cho thẻ này: chưa kiểm tra việc thu hồi.", "No usable saved status list for this credential: revocation was not checked.";
    stamp_signer: "Người ký", "Signer";
    stamp_document: "Văn bản", "Document";
    stamp_signed: "Thời điểm ký", "Signed at";
    stamp_record: "Bản ghi chữ ký", "Signature record";
    trust_saved: "Đã lưu khóa và danh sách trạng thái để kiểm tra ngoại tuyến", "Keys and status lists saved for offline checks";
    verdict_valid: "HỢP LỆ", "VALID";
    verdict_invalid: "KHÔNG HỢP LỆ", "NOT VALID";
    forbidden_title: "Không có quyền", "Not allowed";
    forbidden_text: "Vai trò của bạn không cho phép mở trang này.", "Your role does not allow this page.";
    not_found_title: "Không tìm thấy", "Not found";
    not_found_text: "Không có trang hoặc hồ sơ này.", "There is no such page or record.";
    csrf_title: "Biểu mẫu không hợp lệ", "Form refused";
    csrf_text: "Biểu mẫu này đã cũ hoặc không đến từ trang của dịch vụ. Hãy mở lại trang và thử lại.", "This form is out of date or did not come from the service's own page. Open the page again and retry.";
    error_title: "Có lỗi xảy ra", "Something went wrong";
    error_text: "Yêu cầu không thực hiện được:", "The request could not be carried out:";
    back_home: "Về trang chính", "Back to the home page";
    admin_title: "Quản trị tài khoản", "Account administration";
    admin_kind: "Loại", "Kind";
    admin_officers: "Cán bộ", "Officers";
    admin_clients: "Quầy và cổng dịch vụ", "Counters and portals";
    admin_officials: "Người ký", "Officials";
    status_replaced: "Đã được thay thế", "Replaced";
    status_other: "Không hợp lệ", "Not valid";
    admin_name: "Tên", "Name";
    admin_state: "Tình trạng", "State";
    admin_enabled: "Đang hoạt động", "Enabled";
    admin_disabled: "Đã khóa", "Disabled";
    admin_disable: "Khóa", "Disable";
    admin_enable: "Mở khóa", "Enable";
    admin_reset: "Đặt lại mật khẩu", "Reset password";
    admin_new_password: "Mật khẩu mới (ít nhất 12 ký tự)", "New password (12 characters or more)";
    admin_create: "Tạo tài khoản cán bộ", "Create an officer";
    admin_done: "Đã thực hiện.", "Done.";
    admin_next: "Trang sau", "Next page";
    admin_official_totp: "Cấp lại TOTP cho", "Re-enrol the TOTP of";
    admin_official_rotate: "Đổi khóa ký của", "Rotate the key of";
    admin_official_totp_title: "Mã TOTP mới của người ký", "An official's new TOTP secret";
    admin_official_totp_done: "Đã cấp lại TOTP cho người ký", "TOTP re-enrolled for the official";
    admin_official_totp_intro: "Người ký quét mã QR này bằng ứng dụng xác thực ngay bây giờ: mã chỉ hiện một lần. Mã của thiết bị cũ không còn dùng được; các phiên đăng nhập và phiên ký của người ký đã kết thúc.", "The official scans this QR with their authenticator app now: it is shown only once. Codes of the old device no longer work; the official's sign-ins and signing sessions have ended.";
    admin_official_totp_qr: "Mã QR đăng ký TOTP", "TOTP enrolment QR";
    admin_official_totp_qr_caption: "Quét bằng ứng dụng xác thực (Google Authenticator, FreeOTP…).", "Scan with an authenticator app (Google Authenticator, FreeOTP…).";
    admin_official_totp_uri: "Hoặc nhập liên kết này vào ứng dụng", "Or enter this link in the app";
    admin_official_rotate_title: "Đổi khóa ký của người ký", "Rotate an official's signing key";
    admin_official_rotate_intro: "Người ký sẽ có khóa ký mới và chứng thư người ký mới. Chứng thư cũ bị thu hồi ngay (chứng thư số PDF của nó vào danh sách thu hồi): khóa cũ không ký được nữa, còn các chữ ký đã tạo trước đó vẫn hợp lệ tại thời điểm ký. Người ký phải đăng nhập lại; ứng dụng xác thực của họ vẫn dùng được.", "The official gets a new signing key and a new signer credential. The old credential is revoked at once (its PDF certificate goes on the revocation list): the old key signs nothing more, and signatures made before stay valid at their signing time. The official must sign in again; their authenticator app keeps working.";
    admin_official_name: "Người ký", "Official";
    admin_official_rotate_confirm: "Tôi xác nhận đổi khóa ký của người ký này và thu hồi chứng thư cũ", "I confirm: rotate this official's signing key and revoke the old credential";
    admin_official_rotate_button: "Đổi khóa ký", "Rotate the key";
    admin_official_rotate_unconfirmed: "Hãy đánh dấu ô xác nhận trước khi đổi khóa.", "Tick the confirmation before rotating the key.";
    admin_official_rotated: "Đã đổi khóa ký của người ký", "Signing key rotated for the official";
    admin_official_new_kid: "Khóa mới (kid)", "New key (kid)";
    admin_official_old_kid: "Khóa cũ (kid)", "Old key (kid)";
    admin_official_new_credential: "Chứng thư người ký mới", "New signer credential";
    admin_official_revoked: "Chứng thư đã thu hồi", "Credentials revoked";
    admin_official_rotated_next: "Người ký đăng nhập lại bằng mật khẩu và ứng dụng xác thực như trước; chứng thư số PDF mới được cấp ở lần ký PDF đầu tiên.", "The official signs in again with the same password and authenticator app; a new PDF certificate is issued at their first PDF signature.";
    admin_official_back: "Về danh sách người ký", "Back to the officials";
    language: "Ngôn ngữ", "Language";
    offer_form_title: "Gửi thẻ vào ví của công dân", "Deliver a credential to the citizen's wallet";
    offer_form_intro: "Công dân quét mã QR bằng điện thoại và nhập mã PIN bạn đọc cho họ. Thẻ được gắn với khóa trong ví của họ.", "The citizen scans a QR with their phone and types the PIN you read out. The credential is bound to the key in their wallet.";
    offer_button: "Tạo mã nhận thẻ", "Make a wallet offer";
    offer_title: "Mã nhận thẻ vào ví", "Wallet offer";
    offer_intro: "Đưa mã QR cho công dân quét bằng điện thoại. Đọc mã PIN cho họ, không để ai khác thấy hay chụp lại.", "Let the citizen scan the QR with their phone. Read the PIN out to them; do not let anyone else see or photograph it.";
    offer_qr_label: "Mã QR nhận thẻ vào ví", "QR of the wallet offer";
    offer_qr_caption: "Quét bằng máy ảnh của điện thoại: ví định danh sẽ mở ra.", "Scan with the phone's camera: the identity wallet opens.";
    offer_pin: "Mã PIN", "PIN";
    offer_pin_hint: "Công dân nhập mã này trong ví. Sai 5 lần thì mã nhận thẻ hết hiệu lực.", "The citizen types it in the wallet. Five wrong tries spend the offer.";
    offer_expires: "Mã dùng được một lần, đến", "Usable once, until";
    offer_minutes: "phút", "minutes";
    offer_link: "Liên kết (nếu công dân mở ví trên chính máy này)", "The link (if the citizen opens the wallet on this device)";
    offer_back: "Về hồ sơ công dân", "Back to the citizen record";
    wallet_title: "Ví định danh", "Identity wallet";
    wallet_unsupported: "Trình duyệt này không tạo được khóa Ed25519 an toàn hoặc không lưu được dữ liệu. Hãy dùng Chrome, Edge, Firefox hoặc Safari bản mới.", "This browser cannot make a secure Ed25519 key or keep data. Use a recent Chrome, Edge, Firefox or Safari.";
    wallet_empty: "Ví chưa có thẻ. Tại văn phòng, quét mã QR nhận thẻ bằng máy ảnh của điện thoại, hoặc dán liên kết vào đây:", "The wallet holds no credential yet. At the office, scan the wallet offer QR with the phone's camera, or paste its link here:";
    wallet_offer_link: "Liên kết nhận thẻ", "Offer link";
    wallet_open_offer: "Mở", "Open";
    wallet_pin_intro: "Nhập mã PIN cán bộ đọc cho bạn. Điện thoại tạo một khóa riêng, không rời khỏi máy, và thẻ được gắn với khóa đó.", "Type the PIN the officer read out. The phone makes a key of its own that never leaves it, and the credential is bound to that key.";
    wallet_pin: "Mã PIN (6 chữ số)", "PIN (6 digits)";
    wallet_receive: "Nhận thẻ", "Receive";
    wallet_card: "Thẻ của bạn", "Your credential";
    wallet_show: "Xuất trình tại quầy", "Show at a counter";
    wallet_forget: "Xóa thẻ khỏi ví này", "Remove it from this wallet";
    wallet_live_label: "Mã QR động để xuất trình thẻ", "Live QR presenting your credential";
    wallet_live_hint: "Mã đổi sau mỗi 15 giây; ảnh chụp lại sẽ không dùng được.", "The code changes every 15 seconds; a photo of it will not work.";
    wallet_hide: "Ẩn mã", "Hide the code";
    wallet_receiving: "Đang nhận thẻ…", "Receiving the credential…";
    wallet_received: "Đã nhận thẻ.", "The credential was received.";
    wallet_offer_invalid: "Liên kết nhận thẻ không hợp lệ hoặc không phải của dịch vụ này.", "The offer link is not valid, or not this service's.";
    wallet_network: "Không kết nối được dịch vụ. Hãy thử lại.", "The service cannot be reached. Try again.";
    wallet_refused: "Dịch vụ từ chối:", "The service refused:";
    wallet_countdown: "Mã mới sau {s} giây", "New code in {s} s";
    wallet_forget_confirm: "Xóa thẻ và khóa khỏi ví này? Thẻ vẫn còn hiệu lực; muốn báo mất thẻ, hãy dùng trang của bạn.", "Remove the credential and its key from this wallet? The credential stays valid; to report it lost, use your page.";
    wallet_forgotten: "Đã xóa thẻ khỏi ví này.", "The credential was removed from this wallet.";
    wallet_verify_failed: "Thẻ nhận được không kiểm tra được hoặc không gắn với khóa của ví này; chưa lưu.", "The credential received did not check out, or is not bound to this wallet's key; it was not stored.";
    wallet_name: "Họ và tên", "Full name";
    wallet_dob: "Ngày sinh", "Date of birth";
    wallet_login: "Đăng nhập cổng dịch vụ", "Log in to a portal";
    wallet_login_scan: "Hướng máy ảnh vào mã QR đăng nhập trên trang của cổng dịch vụ.", "Point the camera at the login QR on the portal's page.";
    wallet_camera: "Máy ảnh", "Camera";
    wallet_camera_unavailable: "Không dùng được máy ảnh; hãy dán yêu cầu đăng nhập vào ô bên dưới.", "The camera cannot be used; paste the login request below.";
    wallet_back: "Quay lại", "Back";
    wallet_login_paste: "Hoặc dán yêu cầu đăng nhập (QL1:…)", "Or paste the login request (QL1:…)";
    wallet_login_code: "Mã xác nhận 2 chữ số trên trang đăng nhập", "The 2-digit confirmation code on the login page";
    wallet_login_approve: "Đồng ý và đăng nhập", "Approve and log in";
    wallet_login_decline: "Từ chối", "Decline";
    wallet_login_asks: "{client} đề nghị bạn đăng nhập qua {service} và chia sẻ:", "{client} asks you to log in through {service} and to share:";
    wallet_login_sent: "Đã đăng nhập: hãy quay lại trang của cổng dịch vụ.", "Logged in: go back to the portal's page.";
    wallet_login_declined: "Đã từ chối; không gửi gì cả.", "Declined; nothing was sent.";
    wallet_login_invalid: "Mã QR này không phải yêu cầu đăng nhập hợp lệ của dịch vụ (có thể là giả mạo); không trả lời.", "This QR is not a valid login request of the service (it may be forged); not answering.";
    wallet_login_expired: "Yêu cầu đăng nhập đã hết hạn; hãy bắt đầu lại trên cổng dịch vụ.", "The login request has expired; start again at the portal.";
    scope_openid: "việc bạn đăng nhập (một mã định danh riêng cho cổng này)", "that you logged in (an identifier of yours for this portal only)";
    scope_profile: "họ tên, ngày sinh, giới tính", "name, date of birth, sex";
    scope_address: "nơi thường trú", "place of residence";
    scope_national_id: "số định danh và quốc tịch", "id number and nationality";
    wallet_sign: "Ký văn bản", "Sign a document";
    wallet_sign_intro: "Chọn tệp: tệp không rời khỏi điện thoại; chỉ mã băm của nó được ký bằng khóa của ví.", "Choose a file: it never leaves the phone; only its digest is signed with the wallet's key.";
    wallet_sign_file: "Tệp cần ký", "File to sign";
    wallet_sign_button: "Ký", "Sign";
    wallet_sign_done: "Đã ký {name}. Gửi tệp chữ ký (.sig) kèm văn bản.", "Signed {name}. Send the signature file (.sig) with the document.";
    wallet_sign_download: "Tải tệp chữ ký", "Download the signature";
    wallet_me: "Trang của tôi: ai đã kiểm tra thẻ, báo mất thẻ", "My page: who checked my card, report it lost";
    me_title: "Trang của tôi", "My page";
    me_intro: "Xem thẻ của bạn, ai đã kiểm tra thẻ và khi nào, bạn đã chia sẻ thông tin với cổng dịch vụ nào, và báo mất thẻ. Đăng nhập bằng ví định danh của bạn.", "See your credentials, who checked them and when, which portals you shared claims with, and report a card lost. Sign in with your identity wallet.";
    me_sign_in_button: "Đăng nhập bằng ví", "Sign in with the wallet";
    me_sign_in_failed: "Không đăng nhập được: hãy bắt đầu lại.", "The sign-in did not complete: start again.";
    me_credentials: "Thẻ của tôi", "My credentials";
    me_record: "Lịch sử truy cập", "Access record";
    me_record_intro: "Mọi lần thẻ của bạn được kiểm tra, dùng để đăng nhập hoặc được xem ảnh khuôn mặt.", "Every time your credentials were checked, used to log in, or had their face looked at.";
    me_portals: "Cổng dịch vụ đã nhận thông tin của tôi", "Portals I shared claims with";
    me_when: "Thời điểm", "When";
    me_who: "Ai", "Who";
    me_what: "Việc gì", "What";
    me_none: "Chưa có gì.", "Nothing yet.";
    me_last: "Lần gần nhất", "Last";
    me_shared: "Đã chia sẻ", "Shared";
    me_office_counter: "Quầy văn phòng", "Office counter";
    me_outcome_valid: "Kiểm tra: hợp lệ", "Checked: valid";
    me_outcome_login: "Đăng nhập", "Login";
    me_outcome_face: "Xem ảnh khuôn mặt", "Face looked at";
    me_outcome_refused_status: "Kiểm tra: bị từ chối vì trạng thái thẻ", "Checked: refused for the card's status";
    me_outcome_refused_live: "Mã QR động bị từ chối", "Live QR refused";
    me_outcome_refused: "Kiểm tra: bị từ chối", "Checked: refused";
    me_outcome_signature: "Chữ ký của bạn được kiểm tra: hợp lệ", "Your signature was checked: valid";
    me_outcome_signature_refused: "Chữ ký của bạn được kiểm tra: không hợp lệ", "Your signature was checked: not valid";
    me_lost_title: "Báo mất thẻ", "Report the card lost";
    me_lost_text: "Thẻ sẽ bị tạm dừng ngay: không quầy hay cổng dịch vụ nào chấp nhận nó nữa. Chỉ văn phòng mới khôi phục được, khi bạn đến cùng giấy tờ.", "The card is suspended at once: no counter or portal accepts it any more. Only an office can reinstate it, when you come in person.";
    me_lost_confirm: "Tôi xác nhận thẻ này đã bị mất hoặc bị lấy cắp", "I confirm this card is lost or stolen";
    me_lost_button: "Tạm dừng thẻ", "Suspend the card";
    me_lost_done: "Thẻ đã bị tạm dừng. Hãy đến văn phòng để được cấp lại hoặc khôi phục.", "The card is suspended. Visit an office to have it replaced or reinstated.";
    me_lost_unconfirmed: "Hãy đánh dấu ô xác nhận trước khi tạm dừng thẻ.", "Tick the confirmation before suspending the card.";
    me_print: "In", "Print";
    sign_app: "Ký số văn bản", "Document signing";
    sign_nav_desk: "Bàn ký", "Signing desk";
    sign_nav_history: "Đã ký trước đây", "Signing history";
    sign_desk_sign_in: "Đăng nhập để ký số", "Sign in to sign documents";
    sign_in_intro: "Dành cho cán bộ có chữ ký số: mật khẩu và mã một lần từ ứng dụng xác thực.", "For officials who sign: your password and a one-time code from your authenticator app.";
    sign_code: "Mã một lần (6 chữ số)", "One-time code (6 digits)";
    sign_refused: "Sai tên đăng nhập, mật khẩu hoặc mã một lần.", "Wrong username, password or code.";
    sign_desk_title: "Bàn ký", "Signing desk";
    sign_upload_title: "Tải văn bản lên", "Upload documents";
    sign_upload_help: "Một hoặc nhiều tệp PDF, mỗi tệp tối đa 32 MiB, tối đa 20 văn bản chờ ký.", "One or more PDF files, 32 MiB each at most, 20 waiting at most.";
    sign_files: "Tệp PDF", "PDF files";
    sign_upload_button: "Tải lên", "Upload";
    sign_uploaded: "Đã tải lên: {n} văn bản.", "Uploaded: {n} documents.";
    sign_waiting_title: "Chờ ký", "Waiting to be signed";
    sign_waiting_none: "Không có văn bản nào chờ ký.", "Nothing is waiting to be signed.";
    sign_document: "Văn bản", "Document";
    sign_pages: "Số trang", "Pages";
    sign_size: "Dung lượng", "Size";
    sign_place: "Vị trí dấu", "Stamp place";
    sign_place_default: "Góc dưới bên phải của trang cuối", "Bottom right of the last page";
    sign_place_at: "Trang cuối: ngang {x}‰, dọc {y}‰", "Last page: across {x}‰, up {y}‰";
    sign_preview: "Xem và đặt dấu", "Preview and place the stamp";
    sign_remove: "Bỏ", "Remove";
    sign_approve_title: "Duyệt và ký", "Approve and sign";
    sign_approve_help: "Một mã một lần ký tất cả văn bản đang chờ, bằng khóa và chứng thư số của bạn.", "One code signs every waiting document, with your key and certificate.";
    sign_approve_button: "Ký {n} văn bản", "Sign {n} documents";
    sign_signed_title: "Đã ký, sẵn sàng tải về", "Signed, ready to download";
    sign_download: "Tải về", "Download";
    sign_record: "Hồ sơ chữ ký", "Signature record";
    sign_clear: "Bỏ các văn bản đã ký khỏi bàn", "Clear the signed documents from the desk";
    sign_result_signed: "Đã ký {n} văn bản.", "Signed {n} documents.";
    sign_result_refused: "Không ký được {name}: {why}", "Not signed, {name}: {why}";
    sign_kept: "Văn bản được giữ trên bàn 24 giờ sau khi tải lên, rồi bị xóa.", "Documents stay on the desk for 24 hours after upload, then are deleted.";
    sign_preview_title: "Xem trước", "Preview";
    sign_first_page: "Trang đầu", "First page";
    sign_last_page: "Trang cuối và dấu ký", "Last page and the stamp";
    sign_canvas_first: "Hình trang đầu của văn bản", "Picture of the document's first page";
    sign_canvas_last: "Hình trang cuối, khung dấu ký là nơi dấu sẽ được đặt", "Picture of the last page; the frame is where the stamp goes";
    sign_preview_loading: "Đang hiển thị văn bản…", "Drawing the document…";
    sign_preview_failed: "Không hiển thị được văn bản trong trình duyệt; vẫn có thể đặt vị trí dấu bằng các ô bên dưới.", "The browser could not draw the document; the boxes below still place the stamp.";
    sign_across: "Ngang, từ trái (0) sang phải (1000)", "Across, from left (0) to right (1000)";
    sign_up: "Dọc, từ dưới (0) lên trên (1000)", "Up, from bottom (0) to top (1000)";
    sign_place_help: "Kéo khung dấu trên trang cuối, hoặc nhập vị trí. Dấu rộng 300 và cao 100 điểm.", "Drag the stamp's frame on the last page, or type its place. The stamp is 300 by 100 points.";
    sign_place_save: "Lưu vị trí", "Save the place";
    sign_place_reset: "Về mặc định (góc dưới bên phải)", "Back to the default (bottom right)";
    sign_back: "Về bàn ký", "Back to the desk";
    sign_history_title: "Văn bản đã ký", "Documents signed";
    sign_when: "Ký lúc", "Signed at";
    sign_format: "Dạng", "Format";
    sign_status: "Trạng thái chứng thư ký hiện nay", "Signer credential now";
    sign_status_valid: "Còn hiệu lực", "Valid";
    sign_status_revoked: "Đã thu hồi (chữ ký trước đó vẫn hợp lệ)", "Revoked (signatures made before stay valid)";
    sign_status_suspended: "Tạm dừng", "Suspended";
    sign_status_unknown: "Không rõ", "Unknown";
    sign_older: "Cũ hơn", "Older";
    sign_desk_full: "Bàn ký đã đầy: hãy ký hoặc bỏ bớt văn bản.", "The desk is full: sign or remove documents first.";
    sign_nothing: "Chưa chọn tệp nào.", "No file was chosen.";
    sign_rejected_file: "Không nhận {name}: {why}", "Not accepted, {name}: {why}";
}
